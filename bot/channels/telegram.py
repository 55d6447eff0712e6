"""Telegram: `POST /telegram/webhook` in our own app, python-telegram-bot as transport only.

The update is committed to the inbox before Telegram hears 200, so nothing acknowledged is lost;
replies leave through the outbox (bot/delivery/parents.py), within Telegram's rate limits.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import TelegramError

from bot.conversation.helpline import Helpline
from bot.conversation.router import Inbound
from bot.core.settings import Settings
from flows.engine import N_, Reply
from flows.validators import known_phone
from storage import inbox

log = logging.getLogger(__name__)

# A header's name, not a secret.
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # nosec B105
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_BODY = 64 * 1024
SHARE_PHONE = N_("Share my phone number")
# Commands map onto the intake's own words; /status is answered by bot/conversation/intercepts.py.
COMMANDS = {"/start": "restart", "/help": "help", "/stop": "stop", "/status": "/status"}
MENU = [
    BotCommand("start", "Start an enquiry"),
    BotCommand("status", "When will you call me?"),
    BotCommand("help", "How this works"),
    BotCommand("stop", "Stop and delete my answers"),
]


class TelegramLink:
    """One PTB `Bot` for the webhook and the dispatcher, started on first use."""

    def __init__(self, settings: Settings) -> None:
        self.bot = Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
        self._ready = self._warned = False
        self._lock = asyncio.Lock()

    async def ready(self) -> bool:
        """Initialise (getMe) once; False while Telegram cannot be reached."""
        async with self._lock:
            if not self._ready:
                try:
                    await self.bot.initialize()
                except TelegramError as exc:  # the message may carry the token: log its type
                    if not self._warned:
                        log.warning("Telegram is not reachable yet: %s", type(exc).__name__)
                    self._warned = True
                    return False
                self._ready = True
            return True

    async def close(self) -> None:
        await self.bot.shutdown()


def markup(
    reply: Reply, gettext: Callable[[str], str]
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """Choices as buttons whose data is the choice number; the phone question offers sharing."""
    if reply.choices:
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(f"{n}. {label}", callback_data=str(n))]
                for n, label in enumerate(reply.choices, 1)
            ]
        )
    if reply.request_phone:
        button = KeyboardButton(gettext(SHARE_PHONE), request_contact=True)
        return ReplyKeyboardMarkup([[button]], one_time_keyboard=True, resize_keyboard=True)
    return None


def to_inbound(update: Update, received_at: Any) -> Inbound | None:
    """The update as the router takes it; None for anything the intake does not use."""
    text: str
    known: str | None = None
    query = update.callback_query
    if query is not None:
        if query.message is None or query.message.chat.type != "private":
            return None
        chat_id, user, text = query.message.chat.id, query.from_user, query.data or ""
    elif update.message is not None:
        message = update.message
        if message.chat.type != "private" or message.from_user is None:
            return None
        chat_id, user = message.chat.id, message.from_user
        if message.contact is not None:
            text = known_phone(message.contact.phone_number) or message.contact.phone_number
            if message.contact.user_id == user.id:
                known = known_phone(message.contact.phone_number)
        else:
            text = message.text or message.caption or ""
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0].split("@", 1)[0].lower()
                text = COMMANDS.get(command, text)
    else:
        return None
    return Inbound(
        channel="telegram",
        address=str(chat_id),
        provider_id=str(update.update_id),
        text=text[:4096],
        received_at=received_at,
        language_hint=user.language_code,
        known_phone=known,
    )


def routes(services: Helpline, link: TelegramLink, wake: Callable[[], None]) -> list[Route]:
    secret = services.settings.telegram_webhook_secret.encode()

    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secret or not hmac.compare_digest(given, secret):
            return Response("forbidden", status_code=403)
        body = await request.body()
        try:
            if len(body) > MAX_BODY:
                raise ValueError("too large")
            update = Update.de_json(json.loads(body), link.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return Response("not a Telegram update", status_code=400)
        message = to_inbound(update, services.now())
        if message is None:
            return Response(status_code=200)  # an update type we do not use: acknowledge it
        try:
            # Records the update first (a redelivery replays, writing nothing new).
            await services.router.deliver_message(message)
        except Exception as exc:
            if not await _recorded(services, message):
                raise  # never taken: no 200, so Telegram delivers it again
            # Committed: processed again at the next start.
            log.error("processing a telegram update failed: %s", type(exc).__name__)
        wake()
        if update.callback_query is not None:
            await _answer(link, update)
        return Response(status_code=200)

    return [Route("/telegram/webhook", webhook, methods=["POST"])]


async def _recorded(services: Helpline, message: Inbound) -> bool:
    """Whether the update reached the inbox (asked only after something failed)."""
    async with services.sessions() as session:
        row = await inbox.find_inbound(session, message.channel, message.provider_id)
    return row is not None


async def _answer(link: TelegramLink, update: Update) -> None:
    """Stop the button's spinner and take the buttons off, so an old one is not pressed later."""
    query = update.callback_query
    assert query is not None
    try:
        await query.answer()
        if query.message is not None:
            await link.bot.edit_message_reply_markup(
                chat_id=query.message.chat.id, message_id=query.message.message_id
            )
    except TelegramError as exc:
        log.info("could not answer a button press: %s", type(exc).__name__)
