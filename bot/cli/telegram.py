"""`helpline telegram set-webhook`: point Telegram at this service."""

from __future__ import annotations

from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from bot.channels.telegram import ALLOWED_UPDATES, MENU
from bot.conversation.helpline import Helpline
from bot.core.errors import HelplineError


async def set_webhook(services: Helpline, args: Any) -> int:
    """`helpline telegram set-webhook`: point Telegram at {public_url}/telegram/webhook."""

    settings = services.settings
    if not settings.telegram_bot_token:
        raise HelplineError("TELEGRAM_BOT_TOKEN is not set (the token BotFather gave you)")
    if not settings.telegram_webhook_secret:
        raise HelplineError("TELEGRAM_WEBHOOK_SECRET is not set (any long random string)")
    if not settings.public_url.startswith("https://"):
        raise HelplineError(
            "HELPLINE_PUBLIC_URL must start with https:// for Telegram to post to it"
        )
    url = settings.public_url.rstrip("/") + "/telegram/webhook"
    bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
    try:
        async with bot:
            await bot.set_webhook(
                url,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            await bot.set_my_commands(MENU)
            info = await bot.get_webhook_info()
    except TelegramError as exc:
        reason = exc.message.replace(settings.telegram_bot_token, "<token>")
        raise HelplineError(f"Telegram refused the webhook: {reason}") from None
    print(f"telegram webhook set to {url}")
    waiting = info.pending_update_count
    error = info.last_error_message or "none"
    print(f"telegram: {waiting} update(s) waiting; last delivery error: {error}")
    print(
        "the scheduler's provider-health job reads this every 5 minutes and alerts the admins"
        " when updates pile up or errors repeat"
    )
    return 0
