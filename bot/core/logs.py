"""Logging set-up: chatty clients quietened, and every secret, number and address redacted.

Anyone who can read the logs must learn nothing that opens the bot (its token), the Twilio
account, the mail server or the store, and nothing about a parent or a member of staff.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import quote, unquote, urlsplit

from bot.core.settings import Settings

# httpx logs every request line at INFO, and the Bot API puts the bot's token in the path;
# Twilio's client logs the numbers it sends to. Only their warnings are worth a line.
QUIET = ("httpx", "httpcore", "twilio", "telegram", "apscheduler", "aiosmtplib", "hpack")
SHORTEST_SECRET = 6  # shorter values would blank out ordinary words
# A phone number: 9 to 15 digits, perhaps after a +, perhaps spaced (07700 900123).
PHONE = re.compile(r"(?<![\w.:/-])\+?\d(?:[ ]?\d){8,14}(?![\w:-])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
HANDLER_NAME = "helpline"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def secrets_of(settings: Settings) -> list[str]:
    """Every value in the settings that opens something, in the forms a log line may hold."""
    values = [
        settings.secret_key,
        *settings.encryption_keys,
        settings.lookup_key,
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.twilio_auth_token,
    ]
    if settings.smtp_url:
        values.append(settings.smtp_url)
        password = urlsplit(settings.smtp_url).password
        if password:
            values.append(password)
            values.append(unquote(password))
    values += [quote(value, safe="") for value in values if value]
    return values


class Redact(logging.Filter):
    """Rewrites each record's message (and traceback) with secrets and personal data blanked."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        found = {value for value in secrets if len(value) >= SHORTEST_SECRET}
        self.secrets = sorted(found, key=len, reverse=True)  # a URL before its password

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
        return PHONE.sub("[number]", EMAIL.sub("[email]", text))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep only its template
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line, for log collectors (HELPLINE_LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class _ToStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is logged (a test may have swapped it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure(settings: Settings, level: int, stream: TextIO | None = None) -> logging.Handler:
    """Send every log line through the redacting filter, as text or JSON lines; returns the
    handler so a test can remove it again."""
    handler = logging.StreamHandler(stream) if stream else _ToStderr()
    formatter = JsonLines() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(Redact(secrets_of(settings)))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)  # configured again (a second command in one process): replace
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
