"""Bad input over HTTP: every odd body gets a clear 4xx or a kind reply, never a 500.

Runs on SQLite and PostgreSQL (the `services` fixture); the odd text is stored exactly as sent.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from bot.core.services import Services
from bot.web.app import create_app
from bot.web.limits import BodyLimit
from storage.models import Enquiry, InboxMessage, OutboxMessage, TranscriptLine
from tests.fakes.server import LiveServer
from tests.parent import ANSWERS

ODD_TEXTS = [
    "'; DROP TABLE enquiry; --",
    "1 OR 1=1; SELECT * FROM staff WHERE '' = ''",
    '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "\u202eevil\u202c \u2066isolate\u2069 \u200b\u200c\u200d\ufeffzero width",
    "Zażółć gęślą jaźń — 子供 — طفل — 👨‍👩‍👧",
    "x" * 4096,
]


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services.settings, services=services, migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await http.get("/chat")
        yield http


async def post(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await client.post("/chat/messages", json={"id": uuid.uuid4().hex, "text": text})


async def transcript_in(services: Services) -> list[str]:
    async with services.sessions() as session:
        lines = await session.scalars(
            select(TranscriptLine.text)
            .where(TranscriptLine.direction == "in")
            .order_by(TranscriptLine.id)
        )
        return list(lines)


async def test_odd_text_is_stored_exactly_and_answered_kindly(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post(client, "")
    await post(client, "yes")
    for text in ODD_TEXTS:
        response = await post(client, text)
        assert response.status_code == 200, response.text
        assert response.json()["replies"], "every message gets an answer"
    assert await transcript_in(services) == ["yes", *ODD_TEXTS]
    history = (await client.get("/chat/history")).json()
    assert [line["text"] for line in history["lines"] if line["direction"] == "in"][1:] == (
        ODD_TEXTS
    )


def test_the_chat_page_renders_text_as_text_never_as_markup() -> None:
    script = Path("bot/channels/static/chat.js").read_text(encoding="utf-8")
    assert "textContent" in script
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script


async def test_nul_bytes_and_lone_surrogates_are_cleaned_not_crashed(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post(client, "")
    body = b'{"id": "n1", "text": "a\\u0000b \\udc80 c\\ud83d"}'
    response = await client.post(
        "/chat/messages", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert await transcript_in(services) == ["ab ? c?"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"\xff\xfe\xfd", "application/json", 400),
        (b'{"id": "1", "text": "caf\xe9"}', "application/json", 400),  # Latin-1, not UTF-8
        (b'{"id": "1", "text": ', "application/json", 400),
        (b"[]", "application/json", 400),
        (b"null", "application/json", 400),
        (b'{"id": ["1"], "text": "hi"}', "application/json", 400),
        (b'{"id": "1", "text": {"a": 1}}', "application/json", 400),
        (b'{"id": "", "text": "hi"}', "application/json", 400),
        (b"text=hi&id=%ZZ%00", "application/x-www-form-urlencoded", 415),
        (b"--x\r\nbroken multipart", "multipart/form-data; boundary=x", 415),
        (b"", "application/json", 400),
    ],
)
async def test_malformed_bodies_get_a_clear_4xx(
    client: httpx.AsyncClient, services: Services, content: bytes, content_type: str, status: int
) -> None:
    response = await client.post(
        "/chat/messages", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status
    assert response.json()["error"]
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboxMessage)) == 0


async def test_a_message_over_4096_characters_is_refused_kindly(client: httpx.AsyncClient) -> None:
    response = await post(client, "y" * 4097)
    assert response.status_code == 413
    assert "4,096" in response.json()["error"]


async def test_a_body_over_the_limit_by_content_length_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/chat/messages",
        content=b"{" + b" " * (65 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


async def test_a_streamed_body_over_the_limit_is_cut_off_without_reading_it_all() -> None:
    """Chunked upload with no Content-Length, over real HTTP: 413, the app reads ~64 KiB only."""
    read = 0

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    limited = BodyLimit(Starlette(routes=[Route("/chat/messages", echo, methods=["POST"])]))

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            return message

        await limited(scope, counted, send)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(1024):  # 16 MiB if it were all read
            yield b"a" * 16 * 1024

    async with LiveServer(counting) as server, httpx.AsyncClient(base_url=server.url) as http:
        try:
            status = (await http.post("/chat/messages", content=chunks())).status_code
        except httpx.HTTPError:
            status = 413  # the server may close the connection after its 413 mid-upload
        small = await http.post("/chat/messages", content=b"hello")
    assert status == 413
    assert read <= 64 * 1024 + 128 * 1024, f"the app read {read} bytes of a 16 MiB body"
    assert small.status_code == 200 and small.text == "5"


async def test_a_bad_content_length_is_400(client: httpx.AsyncClient) -> None:
    app = BodyLimit(Starlette())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.post("/chat/messages", headers={"content-length": "lots"})
    assert response.status_code == 400


async def test_a_flood_is_throttled_merged_into_one_enquiry_and_safety_still_answers(
    client: httpx.AsyncClient, services: Services
) -> None:
    await post(client, "")
    flood = [f"message {n}" for n in range(45)]
    notices = 0
    for text in flood:
        response = await post(client, text)
        assert response.status_code == 200
        notices += "very quickly" in str(response.json()["replies"])
    assert notices == 1, "one notice per burst, not one per message"
    risky = await post(client, "he hits my son and I am scared he will kill him")
    replies = risky.json()["replies"]
    assert "999" in replies[0]["text"]
    async with services.sessions() as session:
        alerts = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "safeguarding_alert")
        )
    assert alerts == 1
    assert "Can we call you?" in replies[-1]["text"]  # a safe number, before anything else
    # Time passes (the clock is the test's): the parent finishes the one intake.
    services.now.advance(minutes=5)  # type: ignore[attr-defined]
    replies_after: list[object] = []
    for text in ["no", *ANSWERS, "1"]:
        replies_after = (await post(client, text)).json()["replies"]
    assert "Your reference is PP-" in str(replies_after)
    async with services.sessions() as session:
        enquiries = list(await session.scalars(select(Enquiry)))
        unprocessed = await session.scalar(
            select(func.count())
            .select_from(InboxMessage)
            .where(InboxMessage.processed_at.is_(None))
        )
        # Transcript text is encrypted at rest: compare after reading, not in SQL.
        lines = await session.scalars(
            select(TranscriptLine.text).where(TranscriptLine.enquiry_id == enquiries[0].id)
        )
        merged = sum(1 for text in lines if text in flood)
    assert len(enquiries) == 1 and enquiries[0].urgent
    assert unprocessed == 0
    assert merged == len(flood), "every flooded message is kept in the one enquiry"
