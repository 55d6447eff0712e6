"""The staff senders for the outbox worker: email over SMTP and Telegram to staff chat ids, and
the fan-out of a row addressed to "duty" or "managers" into one row per person and medium.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

from bot.channels.telegram import TelegramLink
from bot.core.services import Services
from bot.core.settings import Settings, SettingsError
from bot.delivery.parents import TelegramLimits
from bot.delivery.worker import UNPACED, Deferred, Outcome, Permanent, Transient
from bot.domain.alerts import TELEGRAM_PREFIX, fan_out
from storage.models import OutboxMessage

ROLES = frozenset({"duty", "managers"})


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
            raise Permanent(type(exc).__name__) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise Transient(type(exc).__name__) from exc
        return str(message["Message-ID"])


class StaffEmail:
    """Email rows through the Mailer; without HELPLINE_SMTP_URL each fails at once, saying so."""

    channels = frozenset({"email"})

    def __init__(self, mailer: Mailer | None) -> None:
        self.mailer = mailer

    async def ready(self, now: datetime) -> bool:
        return True

    def hold(self, row: OutboxMessage, now: datetime) -> datetime | None:
        return None

    def room(self, now: datetime) -> int:
        return UNPACED

    async def send(self, row: OutboxMessage, now: datetime) -> Outcome:
        if self.mailer is None:
            raise Permanent("email is off (HELPLINE_SMTP_URL not set)")
        return Outcome("sent", await self.mailer.send(row.address, dict(row.payload)))

    async def close(self) -> None:
        """Each mail opens and closes its own SMTP connection."""


class StaffTelegram:
    """Staff alerts through the service's bot, at the same pace as the parents' messages."""

    channels = frozenset({"staff"})

    def __init__(self, link: TelegramLink | None, limits: TelegramLimits) -> None:
        self.link, self.limits = link, limits

    async def ready(self, now: datetime) -> bool:
        return self.link is None or (not self.limits.full(now) and await self.link.ready())

    def hold(self, row: OutboxMessage, now: datetime) -> datetime | None:
        return self.limits.hold(row.address.removeprefix(TELEGRAM_PREFIX), now)

    def room(self, now: datetime) -> int:
        return self.limits.room(now)

    async def send(self, row: OutboxMessage, now: datetime) -> Outcome:
        if self.link is None:
            raise Permanent("staff Telegram is off (TELEGRAM_BOT_TOKEN not set)")
        chat = row.address.removeprefix(TELEGRAM_PREFIX)
        try:
            sent = await self.link.bot.send_message(int(chat), str(row.payload["text"]))
        except RetryAfter as exc:
            raise Deferred(self.limits.pause(exc, now)) from None
        except (Forbidden, BadRequest, InvalidToken) as exc:
            raise Permanent(type(exc).__name__) from None
        except NetworkError as exc:
            raise Transient(type(exc).__name__) from None
        finally:
            self.limits.spent(chat, now)
        return Outcome("sent", str(sent.message_id))

    async def close(self) -> None:
        """The link belongs to whoever made it."""


class FanOut:
    """The step before sending: "duty" and "managers" rows become one row per person."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def takes(self, row: OutboxMessage) -> bool:
        return row.channel == "staff" and row.address in ROLES

    async def expand(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        settings, clock = self.services.settings, self.services.clock
        await fan_out(session, settings, clock, row, now)
