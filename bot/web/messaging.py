"""The parents' messaging channels in the app: their webhooks, and the one outbox worker's task
(none with `helpline serve --no-sender`: then `helpline scheduler` sends, woken on PostgreSQL by
the NOTIFY each enqueue here issues)."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.routing import BaseRoute

from bot.channels import telegram
from bot.channels.twilio import sms
from bot.conversation.helpline import Helpline
from bot.delivery.build import build_worker
from bot.delivery.worker import OutboxWorker
from storage.outbox import announce_enqueues


def _elsewhere() -> None:
    """The sender is another process: the commit's NOTIFY wakes it (PostgreSQL), or its poll."""


class Messaging:
    """Telegram and Twilio webhooks, and the background task of the outbox worker for parents'
    and staff rows alike (`send`; otherwise the enqueues here ring the sender's bell)."""

    def __init__(self, services: Helpline, *, send: bool = True) -> None:
        self.services = services
        self.send = send
        settings = services.settings
        token = settings.telegram_bot_token
        self.telegram = telegram.TelegramLink(settings) if token else None
        self.dispatcher: OutboxWorker = build_worker(services, self.telegram)
        if not send:  # before anything is enqueued here (the replay of deliveries at start)
            announce_enqueues(services.sessions)
        self._task: asyncio.Task[None] | None = None

    def routes(self) -> list[BaseRoute]:
        found: list[BaseRoute] = [*sms.routes(self.services)]
        if self.telegram is not None and self.services.settings.telegram_enabled:
            wake = self.dispatcher.wake if self.send else _elsewhere
            found += telegram.routes(self.services, self.telegram, wake)
        return found

    async def start(self) -> None:
        if not self.send:
            return
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
