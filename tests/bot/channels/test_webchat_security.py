"""The web chat against a script: only server-signed cookies, limits per chat and per address,
one counted alert per conversation, strict headers, and no cookie value in the store."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.channels.webchat_guard import PER_ADDRESS, PER_TOKEN
from bot.core.services import Services
from bot.domain.alerts import render_alert
from bot.web.app import create_app
from storage.db import make_engine
from storage.models import InboxMessage, OutboxMessage
from tests.bot.test_protection import everything
from tests.conftest import FakeClock
from tests.parent import ANSWERS, count


def chat_client(app: object, address: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def app(services: Services) -> AsyncIterator[object]:
    yield create_app(services.settings, services=services, migrate=False)


async def post(http: httpx.AsyncClient, text: str) -> httpx.Response:
    return await http.post("/chat/messages", json={"id": uuid.uuid4().hex, "text": text})


async def test_the_store_never_holds_the_cookie_value(services: Services, app: object) -> None:
    async with chat_client(app) as http:
        await http.get("/chat")
        for text in ["", *ANSWERS[:6]]:
            assert (await post(http, text)).status_code == 200
        cookie = http.cookies["helpline_chat"]
        history = (await http.get("/chat/history")).json()
    assert any(line["text"] == "Year 4" for line in history["lines"])  # still found by it
    token = cookie.rsplit(".", 1)[0]
    async with services.sessions() as session:
        provider_ids = list(await session.scalars(select(InboxMessage.provider_id)))
    assert provider_ids and all(token not in p for p in provider_ids)
    dump = await everything(services)  # every row, raw and decrypted
    assert token not in dump and cookie not in dump


async def test_only_a_cookie_the_server_signed_opens_a_chat(
    services: Services, app: object
) -> None:
    async with chat_client(app) as http:
        http.cookies.set("helpline_chat", uuid.uuid4().hex + "abcdef")  # well formed, invented
        made_up = await post(http, "hello")
        page = await http.get("/chat")
        issued = page.cookies["helpline_chat"]
        assert issued and "." in issued  # a fresh, signed one replaces it
        http.cookies.set("helpline_chat", issued[:-2] + "xx")  # tampered signature
        tampered = await post(http, "hello")
    assert made_up.status_code == tampered.status_code == 400
    assert "reload the page" in made_up.json()["error"]
    assert await count(services, InboxMessage) == 0


async def test_one_chat_is_limited_per_minute_then_may_go_on(
    services: Services, app: object, clock: FakeClock
) -> None:
    async with chat_client(app) as http:
        await http.get("/chat")
        codes = [(await post(http, "hello")).status_code for _ in range(PER_TOKEN + 1)]
        assert codes == [200] * PER_TOKEN + [429]
        clock.advance(minutes=1)
        assert (await post(http, "hello")).status_code == 200


async def test_one_address_is_limited_however_many_chats_it_opens(
    services: Services, app: object
) -> None:
    codes = []
    for _ in range(PER_ADDRESS // 10 + 1):
        async with chat_client(app) as http:  # a fresh cookie each time, one address
            await http.get("/chat")
            for _ in range(10):
                codes.append((await post(http, "hello")).status_code)
    assert codes[:PER_ADDRESS] == [200] * PER_ADDRESS
    assert set(codes[PER_ADDRESS:]) == {429}
    async with chat_client(app, address="198.51.100.9") as other:  # someone else is fine
        await other.get("/chat")
        assert (await post(other, "hello")).status_code == 200


async def test_six_risky_messages_are_one_alert_counted_six_times(
    services: Services, app: object
) -> None:
    async with chat_client(app) as http:
        await http.get("/chat")
        await post(http, "")
        for _ in range(6):
            assert (await post(http, "he said he wants to kill himself")).status_code == 200
    async with services.sessions() as session:
        alerts = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "safeguarding_alert")
            )
        )
    assert len(alerts) == 1
    assert alerts[0].payload["count"] == 6
    text = render_alert("safeguarding_alert", dict(alerts[0].payload), services.settings).text
    assert "(6 times in this conversation)" in text


async def test_the_chat_page_and_its_answers_send_strict_headers(app: object) -> None:
    async with chat_client(app) as http:
        responses = [await http.get("/chat"), await post(http, ""), await http.get("/chat/history")]
    for response in responses:
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_new_sqlite_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "helpline.db"
    old = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        async with engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x)")
        await engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
