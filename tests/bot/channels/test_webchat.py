"""The web chat over HTTP: cookie-kept conversation, history after reload, kind errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.core.services import Services
from bot.web.app import create_app
from tests.parent import ANSWERS


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services.settings, services=services, migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def say(client: httpx.AsyncClient, text: str) -> list[dict[str, object]]:
    response = await client.post("/chat/messages", json={"id": uuid.uuid4().hex, "text": text})
    assert response.status_code == 200, response.text
    return list(response.json()["replies"])


async def test_a_parent_completes_the_intake_in_the_web_chat(client: httpx.AsyncClient) -> None:
    page = await client.get("/chat")
    assert page.status_code == 200
    assert "helpline_chat" in page.headers["set-cookie"]
    assert "httponly" in page.headers["set-cookie"].lower()
    assert '<script src="/chat/static/chat.js"' in page.text
    first = await say(client, "")
    assert first[0]["choices"] == ["Yes", "No"]
    replies: list[dict[str, object]] = []
    for text in [*ANSWERS, "1"]:
        replies = await say(client, text)
    assert "Your reference is PP-" in str(replies[-1]["text"])
    history = (await client.get("/chat/history")).json()
    assert history["lines"][0]["direction"] == "out"
    assert any(line["text"] == "Year 4" for line in history["lines"])
    assert history["dir"] == "ltr"


async def test_history_survives_a_reload_and_offers_the_current_choices(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/chat")
    await say(client, "")
    await say(client, "yes")
    await client.get("/chat")  # reload: same cookie, same conversation
    history = (await client.get("/chat/history")).json()
    assert [line["direction"] for line in history["lines"]] == ["out", "in", "out"]
    assert history["choices"][0] == "Parent or carer"


async def test_bad_requests_get_clear_4xx_answers(client: httpx.AsyncClient) -> None:
    no_cookie = await client.post("/chat/messages", json={"id": "1", "text": "hi"})
    assert no_cookie.status_code == 400 and "reload" in no_cookie.json()["error"]
    await client.get("/chat")
    cases = [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"\xff\xfe", "headers": {"content-type": "application/json"}}, 400),
        ({"json": ["a list"]}, 400),
        ({"json": {"id": 5, "text": "hi"}}, 400),
        ({"json": {"id": "x", "text": "a" * 5000}}, 413),
        (
            {
                "content": b"text=hi",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            415,
        ),
    ]
    for kwargs, status in cases:
        response = await client.post("/chat/messages", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == status, kwargs
        assert response.json()["error"]


async def test_lone_surrogates_and_nul_bytes_are_answered_not_crashed(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/chat")
    await say(client, "")
    body = b'{"id": "s1", "text": "\\ud800 hello \\u0000"}'
    response = await client.post(
        "/chat/messages", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert "1 for yes or 2 for no" in response.json()["replies"][0]["text"]


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}
