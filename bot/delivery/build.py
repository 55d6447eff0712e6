"""Plugs the senders into the one outbox worker, for whichever channels have their settings.

`helpline serve` runs one worker (bot/web/messaging.py starts it with the app) unless started
with --no-sender; `helpline scheduler` runs one too. Claims skip rows another sender holds, so
workers in several processes share the outbox without sending a row twice. On PostgreSQL the
worker listens for the NOTIFY of processes that do not send (bot/delivery/bell.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.telegram import TelegramLink
from bot.channels.twilio.client import make_twilio_client
from bot.core.services import Services
from bot.core.settings import Settings, SettingsError
from bot.delivery.bell import PostgresBell
from bot.delivery.parents import ParentTelegram, ParentTwilio, TelegramLimits
from bot.delivery.staff import FanOut, Mailer, StaffEmail, StaffTelegram
from bot.delivery.worker import LEASE, OutboxWorker, Sender
from bot.domain.reach_flags import officer_text_status
from storage.models import OutboxMessage


def lease(settings: Settings) -> timedelta:
    """How long a claimed row may stay `sending` before it counts as abandoned:
    `[outbox] lease_seconds` in the TOML file (default two minutes)."""
    value = settings.extra.get("outbox", {}).get("lease_seconds", LEASE.total_seconds())
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise SettingsError("setting outbox.lease_seconds must be a number of seconds above 0")
    return timedelta(seconds=value)


async def officer_text_marked(
    services: Services, session: AsyncSession, row: OutboxMessage, status: str, now: datetime
) -> None:
    """An officer's text refused for good (Telegram blocked, Twilio refused) flags the case;
    one Telegram accepted counts as delivered (Telegram gives no later receipt)."""
    if status == "sent" and row.channel == "telegram":
        status = "delivered"
    await officer_text_status(session, services.settings, services.clock, row, status, now)


def build_worker(services: Services, link: TelegramLink | None = None) -> OutboxWorker:
    """The worker with every sender whose settings are there; `link` is the app's Telegram bot
    (made, and closed with the worker, here when none is given)."""
    settings = services.settings
    own_link = link is None and bool(settings.telegram_bot_token)
    if own_link:
        link = TelegramLink(settings)
    limits = TelegramLimits()  # one bot, one pace, whoever the message is for
    senders: dict[str, Sender] = {}
    if link is not None and settings.telegram_enabled:
        senders["telegram"] = ParentTelegram(services, link, limits)
    if settings.twilio_enabled:
        client = make_twilio_client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            base_url=settings.twilio_api_base_url,
        )
        senders["sms"] = senders["whatsapp"] = ParentTwilio(services, client)
    senders["email"] = StaffEmail(Mailer(settings) if settings.smtp_url else None)
    senders["staff"] = StaffTelegram(link, limits)
    worker = OutboxWorker(services, senders, {"staff": FanOut(services)}, lease=lease(settings))
    worker.on_marked.append(partial(officer_text_marked, services))
    if not settings.is_sqlite:
        worker.bell = PostgresBell(settings.database_url).ring
    if own_link and link is not None:
        worker.on_close.append(link.close)
    return worker


async def send_due(services: Services, now: datetime) -> int:
    """One sweep by a worker of its own (`helpline digest` sends at once); how many were sent."""
    worker = build_worker(services)
    try:
        return await worker.run_once(now)
    finally:
        await worker.close()
