"""The parents' senders for the outbox worker: Telegram by the Bot API, SMS/WhatsApp by Twilio.

Telegram's limits (about 30 messages a second, one a second per chat, and its own retry_after)
hold rows back instead of losing them. Opted-out contacts are never sent anything.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.channels.telegram import TelegramLink, markup
from bot.channels.twilio.sms import render
from bot.core.services import Services
from bot.core.settings import Settings
from bot.delivery.worker import UNPACED, Deferred, Outcome, Permanent, Transient
from bot.domain import contacts
from flows.engine import Reply
from storage.models import Contact, OutboxMessage

TELEGRAM_PER_SECOND = 30
PER_CHAT_GAP = timedelta(seconds=1)
TWILIO_UNSUBSCRIBED = 21610


class TelegramLimits:
    """One bot's pace, shared by its parents' and staff senders: 30 a second, 1 a second a chat,
    and a pause for as long as Telegram's retry_after says."""

    def __init__(self) -> None:
        self._sent: deque[datetime] = deque()
        self._chat_last: dict[str, datetime] = {}
        self.paused_until: datetime | None = None

    def hold(self, chat: str, now: datetime) -> datetime | None:
        if self.paused_until is not None and now < self.paused_until:
            return self.paused_until
        while self._sent and now - self._sent[0] >= timedelta(seconds=1):
            self._sent.popleft()
        if len(self._chat_last) > 10_000:  # forget chats quiet for longer than the gap
            self._chat_last = {c: t for c, t in self._chat_last.items() if now - t < PER_CHAT_GAP}
        last = self._chat_last.get(chat)
        if last is not None and now - last < PER_CHAT_GAP:
            return last + PER_CHAT_GAP
        if len(self._sent) >= TELEGRAM_PER_SECOND:
            return self._sent[0] + timedelta(seconds=1)
        return None

    def full(self, now: datetime) -> bool:
        """Paused, or this second's 30 already sent: claim no Telegram rows in this sweep."""
        return self.room(now) == 0

    def room(self, now: datetime) -> int:
        """How many more may go in this second (none while paused)."""
        if self.paused_until is not None and now < self.paused_until:
            return 0
        while self._sent and now - self._sent[0] >= timedelta(seconds=1):
            self._sent.popleft()
        return max(0, TELEGRAM_PER_SECOND - len(self._sent))

    def spent(self, chat: str, now: datetime) -> None:
        self._sent.append(now)
        self._chat_last[chat] = max(self._chat_last.get(chat, now), now)

    def pause(self, error: RetryAfter, now: datetime) -> datetime:
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        self.paused_until = now + timedelta(seconds=seconds)
        return self.paused_until


async def _contact(services: Services, channel: str, address: str) -> Contact | None:
    async with services.sessions() as session:
        return await contacts.find(session, channel, address)


async def _flag(services: Services, contact_id: int, **values: Any) -> None:
    async with services.sessions.begin() as session:
        await session.execute(update(Contact).where(Contact.id == contact_id).values(**values))


def _reply(row: OutboxMessage) -> Reply:
    return Reply(
        str(row.payload.get("text") or ""),
        tuple(row.payload.get("choices") or ()),
        bool(row.payload.get("request_phone")),
    )


class ParentTelegram:
    """A parent's Telegram chat with buttons; a parent who blocked the bot is marked unreachable."""

    channels = frozenset({"telegram"})

    def __init__(self, services: Services, link: TelegramLink, limits: TelegramLimits) -> None:
        self.services, self.link, self.limits = services, link, limits

    async def ready(self, now: datetime) -> bool:
        return not self.limits.full(now) and await self.link.ready()

    def hold(self, row: OutboxMessage, now: datetime) -> datetime | None:
        return self.limits.hold(row.address, now)

    def room(self, now: datetime) -> int:
        return self.limits.room(now)

    async def send(self, row: OutboxMessage, now: datetime) -> Outcome:
        contact = await _contact(self.services, row.channel, row.address)
        if contact is not None and contact.opted_out:
            return Outcome("suppressed", None, "opted out")
        gettext = self.services.catalogs.gettext(contact.language if contact else None)
        reply = _reply(row)
        try:
            message = await self.link.bot.send_message(
                chat_id=int(row.address), text=reply.text, reply_markup=markup(reply, gettext)
            )
        except RetryAfter as exc:
            raise Deferred(self.limits.pause(exc, now)) from None
        except Forbidden:
            if contact is not None:
                await _flag(self.services, contact.id, unreachable=True)
            raise Permanent("blocked by the user") from None
        except TimedOut:
            # It may have arrived: one more try is better than a conversation that stops.
            raise Transient("timed out (may have arrived)") from None
        except NetworkError:
            raise Transient("network") from None
        except TelegramError as exc:
            raise Permanent(f"telegram: {type(exc).__name__}") from None
        finally:
            self.limits.spent(row.address, now)
        return Outcome("sent", str(message.message_id))

    async def close(self) -> None:
        """The link belongs to whoever made it (the app's messaging)."""


class ParentTwilio:
    """SMS and WhatsApp by Twilio's REST API (WhatsApp's 24-hour window, template or SMS)."""

    channels = frozenset({"sms", "whatsapp"})

    def __init__(self, services: Services, client: Client) -> None:
        self.services = services
        self.settings: Settings = services.settings
        self.client = client

    async def ready(self, now: datetime) -> bool:
        return True

    def hold(self, row: OutboxMessage, now: datetime) -> datetime | None:
        return None

    def room(self, now: datetime) -> int:
        return UNPACED  # Twilio queues what it is given

    async def send(self, row: OutboxMessage, now: datetime) -> Outcome:
        contact = await _contact(self.services, row.channel, row.address)
        if contact is not None and contact.opted_out:
            return Outcome("suppressed", None, "opted out")
        channel, settings = row.channel, self.settings
        template = None
        if channel == "whatsapp" and not contacts.in_whatsapp_window(contact, now):
            template = settings.twilio_whatsapp_template_sid or None
            if template is None:  # outside the 24-hour window: fall back to SMS
                channel = "sms"
                sms_contact = await _contact(self.services, "sms", row.address)
                if sms_contact is not None and sms_contact.opted_out:
                    return Outcome("suppressed", None, "opted out of sms")
        if channel == "sms":
            to, sender = row.address, settings.twilio_phone_number
        else:
            to = f"whatsapp:{row.address}"
            sender = f"whatsapp:{settings.twilio_whatsapp_number or settings.twilio_phone_number}"
        if sender in {"", "whatsapp:"}:
            raise Permanent("no TWILIO_PHONE_NUMBER set")
        language = contact.language if contact else None
        texts = render(_reply(row), self.services.catalogs.gettext(language), channel)
        callback = settings.public_url.rstrip("/") + "/twilio/status"
        sids: list[str] = []
        for text in texts:
            params: dict[str, Any] = {"to": to, "from_": sender, "status_callback": callback}
            if template:
                params.update(content_sid=template, content_variables=json.dumps({"1": text}))
            else:
                params["body"] = text
            try:
                sids.append(await asyncio.to_thread(self._create, params))
            except TwilioRestException as exc:
                first = sids[0] if sids else None
                if exc.code == TWILIO_UNSUBSCRIBED and contact is not None:
                    await _flag(self.services, contact.id, opted_out=True)
                    return Outcome("suppressed", first, "unsubscribed at Twilio")
                if exc.status == 429 and not sids:
                    raise Transient("twilio 429") from None
                return Outcome("failed", first, f"twilio {exc.code}")
            except OSError:
                if not sids:
                    raise Transient("network") from None
                return Outcome("failed", sids[0], "network")
        return Outcome("sent", sids[0] if sids else None)

    def _create(self, params: dict[str, Any]) -> str:
        return str(self.client.messages.create(**params).sid)

    async def close(self) -> None:
        """Twilio's client keeps no connection worth closing."""
