"""The parents' messaging channels in the app: their webhooks and the outbox dispatcher's task."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.routing import BaseRoute

from bot.channels import telegram
from bot.channels.twilio import sms
from bot.conversation.helpline import Helpline
from bot.delivery.parents import Dispatcher, build


class Messaging:
    """Telegram and Twilio webhooks, and the background task that empties their outbox rows."""

    def __init__(self, services: Helpline) -> None:
        self.services = services
        settings = services.settings
        self.telegram = telegram.TelegramLink(settings) if settings.telegram_enabled else None
        self.dispatcher: Dispatcher = build(services, self.telegram)
        self._task: asyncio.Task[None] | None = None

    def routes(self) -> list[BaseRoute]:
        found: list[BaseRoute] = [*sms.routes(self.services)]
        if self.telegram is not None:
            found += telegram.routes(self.services, self.telegram, self.dispatcher.wake)
        return found

    async def start(self) -> None:
        if self.telegram is not None or self.dispatcher.twilio is not None:
            self._task = asyncio.create_task(self.dispatcher.run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.telegram is not None:
            await self.telegram.close()
