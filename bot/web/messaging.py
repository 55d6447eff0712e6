"""The parents' messaging channels in the app: their webhooks, and the one outbox worker's task."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.routing import BaseRoute

from bot.channels import telegram
from bot.channels.twilio import sms
from bot.conversation.helpline import Helpline
from bot.delivery.build import build_worker
from bot.delivery.worker import OutboxWorker


class Messaging:
    """Telegram and Twilio webhooks, and the background task of the outbox worker: every
    `helpline serve` process runs it for parents' and staff rows alike."""

    def __init__(self, services: Helpline) -> None:
        self.services = services
        settings = services.settings
        token = settings.telegram_bot_token
        self.telegram = telegram.TelegramLink(settings) if token else None
        self.dispatcher: OutboxWorker = build_worker(services, self.telegram)
        self._task: asyncio.Task[None] | None = None

    def routes(self) -> list[BaseRoute]:
        found: list[BaseRoute] = [*sms.routes(self.services)]
        if self.telegram is not None and self.services.settings.telegram_enabled:
            found += telegram.routes(self.services, self.telegram, self.dispatcher.wake)
        return found

    async def start(self) -> None:
        self._task = asyncio.create_task(self.dispatcher.run(), name="outbox-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.dispatcher.close()
        if self.telegram is not None:
            await self.telegram.close()
