"""The outbox dispatcher for parents' channels: Telegram by the Bot API, SMS/WhatsApp by Twilio.

Each row is claimed before it is sent and marked after, so it goes out at most once; Telegram's
limits (about 30 messages a second, one a second per chat, and its own retry_after) push rows
later instead of losing them. Opted-out contacts are never sent anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.channels.telegram import TelegramLink, markup
from bot.channels.twilio.client import make_twilio_client
from bot.channels.twilio.sms import render
from bot.core import metrics
from bot.core.services import Services
from bot.domain import contacts
from flows.engine import Reply
from storage import outbox
from storage.models import Contact, OutboxMessage

log = logging.getLogger(__name__)

CHANNELS = outbox.PARENT_CHANNELS
TELEGRAM_PER_SECOND = 30
PER_CHAT_GAP = timedelta(seconds=1)
WHATSAPP_WINDOW = timedelta(hours=24)
RETRY_LATER = timedelta(seconds=30)
MAX_ATTEMPTS = 5
TWILIO_UNSUBSCRIBED = 21610


class Deferred(Exception):
    """Not sent, and safe to try again at `when` (a flood limit, a refused connection)."""

    def __init__(self, when: datetime) -> None:
        super().__init__(when.isoformat())
        self.when = when


class Dispatcher:
    """Sends due outbox rows of telegram, sms and whatsapp; `run_once` is one sweep."""

    def __init__(
        self,
        services: Services,
        telegram: TelegramLink | None = None,
        twilio: Client | None = None,
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.telegram = telegram
        self.twilio = twilio
        self._telegram_sent: deque[datetime] = deque()
        self._chat_last: dict[str, datetime] = {}
        self._chat_next: dict[str, datetime] = {}
        self._telegram_paused_until: datetime | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, interval: float = 1.0) -> None:
        """Sweep every `interval` seconds (or at once when woken) until cancelled."""
        while True:
            try:
                await self.run_once(self.services.now())
            except Exception as exc:  # a bad minute must not stop the dispatcher for good
                log.error("outbox sweep failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()

    async def _channels(self, now: datetime) -> set[str]:
        channels: set[str] = set()
        paused = self._telegram_paused_until
        if self.telegram and (paused is None or now >= paused) and await self.telegram.ready():
            channels.add("telegram")
        if self.twilio is not None:
            channels |= {"sms", "whatsapp"}
        return channels

    async def run_once(self, now: datetime) -> int:
        """Send what is due now; returns how many rows were settled (sent, failed, suppressed)."""
        channels = await self._channels(now)
        if not channels:
            return 0
        self._chat_next = {}
        async with self.services.sessions.begin() as session:
            rows = await outbox.claim(session, now, channels, limit=TELEGRAM_PER_SECOND)
        settled = 0
        for row in rows:
            try:
                outcome = await self._send(row, now)
            except Deferred as later:
                await self._put_back(row.id, later.when)
                continue
            except Exception as exc:
                log.error("sending outbox row %d failed: %s", row.id, type(exc).__name__)
                outcome = ("failed", None, type(exc).__name__)
            status, provider_id, error = outcome
            async with self.services.sessions.begin() as session:
                await outbox.mark(
                    session,
                    row.id,
                    status=status,
                    now=now,
                    provider_message_id=provider_id,
                    error=error,
                )
            metrics.sent(row.channel, status, error)
            settled += 1
        return settled

    async def _put_back(self, row_id: int, when: datetime) -> None:
        """Unclaim a row that was not sent; the try does not count against it."""
        async with self.services.sessions.begin() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    status="pending",
                    send_after=when,
                    claimed_at=None,
                    attempts=OutboxMessage.attempts - 1,
                )
            )

    async def _contact(self, channel: str, address: str) -> Contact | None:
        async with self.services.sessions() as session:
            return await contacts.find(session, channel, address)

    async def _flag(self, contact_id: int, **values: Any) -> None:
        async with self.services.sessions.begin() as session:
            await session.execute(update(Contact).where(Contact.id == contact_id).values(**values))

    async def _send(self, row: OutboxMessage, now: datetime) -> tuple[str, str | None, str | None]:
        contact = await self._contact(row.channel, row.address)
        if contact is not None and contact.opted_out:
            return ("suppressed", None, "opted out")
        reply = Reply(
            str(row.payload.get("text") or ""),
            tuple(row.payload.get("choices") or ()),
            bool(row.payload.get("request_phone")),
        )
        language = contact.language if contact else None
        if row.channel == "telegram":
            return await self._telegram(row, reply, contact, language, now)
        return await self._twilio(row, reply, contact, language, now)

    # -- Telegram ----------------------------------------------------------------
    def _telegram_slot(self, chat: str, now: datetime) -> datetime | None:
        """None when a message may go now; otherwise the earliest time it may."""
        while self._telegram_sent and now - self._telegram_sent[0] >= timedelta(seconds=1):
            self._telegram_sent.popleft()
        if len(self._chat_last) > 10_000:  # forget chats quiet for longer than the gap
            self._chat_last = {c: t for c, t in self._chat_last.items() if now - t < PER_CHAT_GAP}
        last = self._chat_last.get(chat)
        if last is not None and now - last < PER_CHAT_GAP:
            # Later rows of this chat queue one a second behind the ones already waiting.
            promised = self._chat_next.get(chat, last) + PER_CHAT_GAP
            self._chat_next[chat] = promised
            return promised
        if len(self._telegram_sent) >= TELEGRAM_PER_SECOND:
            return now + timedelta(seconds=1)
        return None

    async def _telegram(
        self,
        row: OutboxMessage,
        reply: Reply,
        contact: Contact | None,
        language: str | None,
        now: datetime,
    ) -> tuple[str, str | None, str | None]:
        assert self.telegram is not None
        paused = self._telegram_paused_until
        if paused is not None and now < paused:
            raise Deferred(paused)
        slot = self._telegram_slot(row.address, now)
        if slot is not None:
            raise Deferred(slot)
        gettext = self.services.catalogs.gettext(language)
        try:
            message = await self.telegram.bot.send_message(
                chat_id=int(row.address), text=reply.text, reply_markup=markup(reply, gettext)
            )
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            self._telegram_paused_until = now + timedelta(seconds=seconds)
            raise Deferred(self._telegram_paused_until) from None
        except Forbidden:
            if contact is not None:
                await self._flag(contact.id, unreachable=True)
            return ("failed", None, "blocked by the user")
        except TimedOut:
            return ("failed", None, "timed out (may have arrived)")
        except NetworkError:
            if row.attempts < MAX_ATTEMPTS:
                raise Deferred(now + RETRY_LATER) from None
            return ("failed", None, "network")
        except TelegramError as exc:
            return ("failed", None, f"telegram: {type(exc).__name__}")
        finally:
            self._telegram_sent.append(now)
            self._chat_last[row.address] = max(self._chat_last.get(row.address, now), now)
        return ("sent", str(message.message_id), None)

    # -- Twilio --------------------------------------------------------------------
    async def _twilio(
        self,
        row: OutboxMessage,
        reply: Reply,
        contact: Contact | None,
        language: str | None,
        now: datetime,
    ) -> tuple[str, str | None, str | None]:
        channel, settings = row.channel, self.settings
        template = None
        if channel == "whatsapp":
            seen = contact.last_inbound_at if contact else None
            if seen is None or now - seen > WHATSAPP_WINDOW:
                template = settings.twilio_whatsapp_template_sid or None
                if template is None:  # outside the 24-hour window: fall back to SMS
                    channel = "sms"
                    sms_contact = await self._contact("sms", row.address)
                    if sms_contact is not None and sms_contact.opted_out:
                        return ("suppressed", None, "opted out of sms")
        if channel == "sms":
            to, sender = row.address, settings.twilio_phone_number
        else:
            to = f"whatsapp:{row.address}"
            sender = f"whatsapp:{settings.twilio_whatsapp_number or settings.twilio_phone_number}"
        if sender in {"", "whatsapp:"}:
            return ("failed", None, "no TWILIO_PHONE_NUMBER set")
        texts = render(reply, self.services.catalogs.gettext(language), channel)
        callback = settings.public_url.rstrip("/") + "/twilio/status"
        sids: list[str] = []
        for text in texts:
            params: dict[str, Any] = {"to": to, "from_": sender, "status_callback": callback}
            if template:
                params.update(content_sid=template, content_variables=json.dumps({"1": text}))
            else:
                params["body"] = text
            try:
                sent = await asyncio.to_thread(self._create, params)
            except TwilioRestException as exc:
                if exc.code == TWILIO_UNSUBSCRIBED and contact is not None:
                    await self._flag(contact.id, opted_out=True)
                    return ("suppressed", sids[0] if sids else None, "unsubscribed at Twilio")
                if exc.status == 429 and not sids and row.attempts < MAX_ATTEMPTS:
                    raise Deferred(now + RETRY_LATER) from None
                return ("failed", sids[0] if sids else None, f"twilio {exc.code}")
            except OSError:
                if not sids and row.attempts < MAX_ATTEMPTS:
                    raise Deferred(now + RETRY_LATER) from None
                return ("failed", sids[0] if sids else None, "network")
            sids.append(sent)
        return ("sent", sids[0] if sids else None, None)

    def _create(self, params: dict[str, Any]) -> str:
        assert self.twilio is not None
        message = self.twilio.messages.create(**params)
        return str(message.sid)


def build(services: Services, telegram: TelegramLink | None) -> Dispatcher:
    """The dispatcher for whichever channels have their secrets."""

    settings = services.settings
    twilio = None
    if settings.twilio_enabled:
        twilio = make_twilio_client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            base_url=settings.twilio_api_base_url,
        )
    return Dispatcher(services, telegram, twilio)
