"""Invariant 5: a whole web chat leaves no number, name or message text in any log."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from bot.core.services import Services
from bot.web.app import create_app
from tests.parent import ANSWERS

NAME = "Jamie Kowalski"
SECRETS = (
    "07700 900123",
    "+447700900123",
    "7700900123",
    "900123",
    NAME,
    "Jamie",
    "Kowalski",
    "Year 4",
    "cannot meet his needs",
    "kill himself",
)


def access_logged(app: Any) -> Any:
    """What uvicorn's access log would write for each request: client, method, full path."""
    access = logging.getLogger("uvicorn.access")

    async def logged(scope: dict[str, Any], receive: Any, send: Any) -> None:
        status: dict[str, int] = {}

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await app(scope, receive, sending)
        if scope["type"] == "http":
            query = scope.get("query_string", b"").decode()
            path = scope["path"] + (f"?{query}" if query else "")
            access.info(
                '%s - "%s %s HTTP/1.1" %d',
                "127.0.0.1",
                scope["method"],
                path,
                status.get("code", 0),
            )

    return logged


async def test_a_whole_web_chat_logs_nothing_personal(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "uvicorn.access", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    app = create_app(services.settings, services=services, migrate=False)
    transport = httpx.ASGITransport(app=access_logged(app))
    answers = list(ANSWERS)
    answers[6] = f"My son {NAME} is in Year 4; the school says they cannot meet his needs."
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await http.get("/chat")
        for text in ["", *answers, "he said he wants to kill himself", "1"]:
            response = await http.post(
                "/chat/messages", json={"id": uuid.uuid4().hex, "text": text}
            )
            assert response.status_code == 200
        history = (await http.get("/chat/history")).json()
        token = http.cookies["helpline_chat"]
    assert any(NAME in line["text"] for line in history["lines"])
    records = caplog.records
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)  # SQL was logged...
    assert any(r.name == "uvicorn.access" for r in records)
    assert any("safeguarding concern" in r.getMessage() for r in records)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in records)
    for secret in (*SECRETS, token):
        assert secret not in logged, secret  # ...but never the parent's data
