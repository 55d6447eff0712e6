"""Invariant 5: a whole web chat leaves no number, name or message text in any log."""

from __future__ import annotations

import io
import json
import logging
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx
import pytest

from bot.core import logs
from bot.core.services import Services
from bot.core.settings import Settings, SettingsError, load_settings
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


def test_the_filter_blanks_every_secret_number_and_address() -> None:
    settings = replace(
        Settings(),
        secret_key="session-secret-abcdef",
        lookup_key="lookup-secret-abcdef",
        encryption_keys=("fernet-key-one-abcdef",),
        telegram_bot_token="123456789:AAFakeToken_abcdef",
        telegram_webhook_secret="webhook-secret-abcdef",
        twilio_auth_token="twilio-auth-token-abcdef",
        smtp_url="smtp://alerts%40council.gov.uk:p%40ssw0rd!@mail.council.gov.uk:587",
    )
    stream = io.StringIO()
    logger = logging.getLogger("tests.redaction")
    handler = logs.configure(settings, logging.INFO, stream)
    try:
        logger.warning(
            'HTTP Request: POST https://api.telegram.org/bot%s/getMe "200"',
            settings.telegram_bot_token,
        )
        logger.warning("mail to sue@council.gov.uk failed with p@ssw0rd! at %s", settings.smtp_url)
        logger.warning("parent on 07700 900123 / +447700900123 said hello")
        try:
            raise ValueError(f"auth {settings.twilio_auth_token} refused")
        except ValueError:
            logger.exception("twilio %s", settings.secret_key)
        logger.info("12 deliveries at 2026-11-26 13:32:50, row 4521")
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    for secret in (*logs.secrets_of(settings), "sue@council.gov.uk", "p@ssw0rd!", "900123"):
        assert secret not in text, secret
    assert text.count("[secret]") >= 5 and "[email]" in text and "[number]" in text
    assert "12 deliveries at 2026-11-26 13:32:50, row 4521" in text  # ordinary lines survive


def test_json_lines_carry_the_same_redaction() -> None:
    settings = replace(Settings(), log_format="json", telegram_bot_token="123456789:AAFake_abc")
    stream = io.StringIO()
    handler = logs.configure(settings, logging.INFO, stream)
    try:
        logging.getLogger("tests.json").warning(
            "GET /bot123456789:AAFake_abc/getMe for 07700900123"
        )
    finally:
        logging.getLogger().removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "tests.json"
    assert entry["message"] == "GET /bot[secret]/getMe for [number]"
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None


def test_a_log_format_other_than_text_or_json_is_refused() -> None:
    with pytest.raises(SettingsError, match="HELPLINE_LOG_FORMAT"):
        load_settings({"HELPLINE_LOG_FORMAT": "xml"})
