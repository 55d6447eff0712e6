"""Delivering staff notices from the outbox: email over SMTP and Telegram to staff chat ids.

Only rows of channel "email" and "staff" are ours (the messaging dispatcher sends the parents'
Telegram, SMS and WhatsApp rows). Each row is claimed once and marked once, so nothing goes twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

from bot.channels.telegram import TelegramLink
from bot.core import metrics
from bot.core.services import Services
from bot.core.settings import Settings, SettingsError
from bot.domain.alerts import TELEGRAM_PREFIX, fan_out
from storage import outbox

log = logging.getLogger(__name__)
CHANNELS = {"email", "staff"}
MAX_ATTEMPTS = 5


class PermanentFailure(Exception):
    """The provider refused this message for good (bad address, blocked bot): do not retry."""


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool = True  # refuse a server that will not upgrade the connection


def parse_smtp_url(url: str) -> SmtpTarget:
    """smtp://user:pass@host:port (STARTTLS required) or smtps://... (TLS from the start);
    `?tls=none` only for a relay on the same machine or network, where there is no TLS."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise SettingsError(
            "HELPLINE_SMTP_URL must look like smtp://user:pass@host:587 or smtps://"
        )
    tls = dict(parse_qsl(parts.query)).get("tls", "")
    if tls not in {"", "none"}:
        raise SettingsError("HELPLINE_SMTP_URL: ?tls= may only be none (no TLS at all)")
    use_tls = parts.scheme == "smtps"
    return SmtpTarget(
        hostname=parts.hostname,
        port=parts.port or (465 if use_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=not use_tls and tls != "none",
    )


class Mailer:
    """Plain text with an HTML alternative, sent with aiosmtplib."""

    def __init__(self, settings: Settings) -> None:
        self.target = parse_smtp_url(settings.smtp_url)
        self.mail_from = settings.mail_from

    def build(self, to: str, payload: dict[str, Any]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = to
        message["Subject"] = str(payload.get("subject") or "Helpline")
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.mail_from.rpartition("@")[2] or None)
        message.set_content(str(payload.get("text") or ""))
        if payload.get("html"):
            message.add_alternative(str(payload["html"]), subtype="html")
        return message

    async def send(self, to: str, payload: dict[str, Any]) -> str:

        message = self.build(to, payload)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.target.hostname,
                port=self.target.port,
                username=self.target.username,
                password=self.target.password,
                use_tls=self.target.use_tls,
                start_tls=self.target.start_tls,
                timeout=30,
            )
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPSenderRefused) as exc:
            raise PermanentFailure(type(exc).__name__) from exc
        return str(message["Message-ID"])


class StaffTelegram:
    """Staff alerts through the service's bot: one TelegramLink, initialised (getMe) once."""

    def __init__(self, settings: Settings) -> None:

        self.link = TelegramLink(settings)

    async def send(self, chat_id: str, payload: dict[str, Any]) -> str:
        from telegram.error import BadRequest, Forbidden, InvalidToken

        if not await self.link.ready():
            raise ConnectionError("Telegram is not reachable")  # tried again later
        try:
            sent = await self.link.bot.send_message(int(chat_id), str(payload["text"]))
        except (Forbidden, BadRequest, InvalidToken) as exc:
            raise PermanentFailure(type(exc).__name__) from exc
        return str(sent.message_id)

    async def close(self) -> None:
        await self.link.close()


@dataclass
class Senders:
    """Built once per dispatcher lifetime (the scheduler keeps one) and closed when it stops."""

    mailer: Mailer | None = None
    telegram: StaffTelegram | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Senders:
        return cls(
            Mailer(settings) if settings.smtp_url else None,
            StaffTelegram(settings) if settings.telegram_bot_token else None,
        )

    async def close(self) -> None:
        if self.telegram is not None:
            await self.telegram.close()


async def _send(senders: Senders, channel: str, address: str, payload: dict[str, Any]) -> str:
    if channel == "email":
        if senders.mailer is None:
            raise PermanentFailure("email is off (HELPLINE_SMTP_URL not set)")
        return await senders.mailer.send(address, payload)
    if senders.telegram is None:
        raise PermanentFailure("staff Telegram is off (TELEGRAM_BOT_TOKEN not set)")
    return await senders.telegram.send(address.removeprefix(TELEGRAM_PREFIX), payload)


async def dispatch(services: Services, now: datetime, senders: Senders | None = None) -> int:
    """Send every due staff row; "duty"/"managers" rows are first fanned out per person.

    Without `senders` (a one-off run, e.g. `helpline digest`) they are built and closed here.
    """
    if senders is None:
        own = Senders.from_settings(services.settings)
        try:
            return await dispatch(services, now, own)
        finally:
            await own.close()
    sent = 0
    for _ in range(3):  # a fan-out makes rows that may be due at once: take them in this run
        async with services.sessions.begin() as session:
            claimed = await outbox.claim(session, now, CHANNELS)
            work: list[tuple[int, str, str, dict[str, Any], int]] = []
            for row in claimed:
                if row.channel == "staff" and not row.address.startswith(TELEGRAM_PREFIX):
                    await fan_out(session, services.settings, services.clock, row, now)
                    row.status, row.sent_at = "expanded", now
                else:
                    work.append((row.id, row.channel, row.address, dict(row.payload), row.attempts))
        if not claimed:
            break
        for row_id, channel, address, payload, attempts in work:
            sent += await _deliver(
                services, senders, now, row_id, channel, address, payload, attempts
            )
    return sent


async def _deliver(
    services: Services,
    senders: Senders,
    now: datetime,
    row_id: int,
    channel: str,
    address: str,
    payload: dict[str, Any],
    attempts: int,
) -> int:
    status, provider_id, error, retry_at = "sent", None, None, None
    try:
        provider_id = await _send(senders, channel, address, payload)
    except PermanentFailure as exc:
        status, error = "failed", str(exc)[:255]
    except Exception as exc:  # network trouble: try again later, a few times
        error = type(exc).__name__
        if attempts < MAX_ATTEMPTS:
            status, retry_at = "pending", now + timedelta(minutes=2**attempts)
        else:
            status = "failed"
    metrics.sent(channel, status, error)
    if status != "sent":
        log.warning("staff %s row %d not sent: %s", channel, row_id, error)
    async with services.sessions.begin() as session:
        await outbox.mark(
            session,
            row_id,
            status=status,
            now=now,
            provider_message_id=provider_id[:64] if provider_id else None,
            error=error,
            retry_at=retry_at,
        )
    return 1 if status == "sent" else 0
