"""Provider health: Telegram keeps undelivered updates about a day and then drops them, so
the scheduler reads getWebhookInfo and tells the admins when updates pile up or errors repeat."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import Bot, WebhookInfo
from telegram.error import TelegramError

from bot.conversation.helpline import Helpline
from bot.domain.operations import alert_admins

log = logging.getLogger(__name__)
PENDING_LIMIT = 20  # a healthy webhook leaves 0 or 1: twenty is a queue building up
RECENT_ERROR = timedelta(minutes=15)


def troubles(info: WebhookInfo, now: datetime) -> list[tuple[str, str, list[str]]]:
    """(kind, subject, lines) for each trouble getWebhookInfo shows; empty when healthy."""
    found: list[tuple[str, str, list[str]]] = []
    pending = info.pending_update_count
    error_at = info.last_error_date
    failing = error_at is not None and now - error_at <= RECENT_ERROR and pending > 0
    reason = (info.last_error_message or "no reason given")[:200]
    if not info.url:
        found.append(
            (
                "ops:telegram_no_webhook",
                "Telegram has no webhook for the helpline",
                [
                    "Messages to the bot are not reaching the service.",
                    "Run: helpline telegram set-webhook",
                ],
            )
        )
    elif pending >= PENDING_LIMIT or failing:
        found.append(
            (
                "ops:telegram_pending",
                f"Telegram webhook failing: {pending} updates waiting",
                [
                    f"Telegram holds {pending} messages it could not deliver to the service.",
                    f"Its last error: {reason}",
                    "Telegram drops undelivered messages after about 24 hours.",
                    "Check /readyz and the web workers' logs (journalctl -u 'helpline-web@*').",
                ],
            )
        )
    return found


async def telegram_health_job(services: Helpline, now: datetime) -> None:
    settings = services.settings
    if not settings.telegram_enabled:
        return
    bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
    try:
        async with bot:
            info = await bot.get_webhook_info()
    except TelegramError as exc:
        found = [
            (
                "ops:telegram_unreachable",
                "Telegram's Bot API cannot be read",
                [f"getWebhookInfo failed: {type(exc).__name__}."],
            )
        ]
    else:
        found = troubles(info, now)
    if not found:
        return
    async with services.sessions.begin() as session:
        for kind, subject, lines in found:
            await alert_admins(session, settings, kind, subject, lines, now)
