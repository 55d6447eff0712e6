"""`helpline serve --no-sender`: the web worker answers the webhook and sends nothing; the one
sender (the scheduler's outbox worker, here in the same test) is woken by the NOTIFY of the
worker's commit on PostgreSQL, long before its poll, and again after its listening connection
is cut."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy import text

from bot.core.services import Services
from bot.delivery.bell import APPLICATION_NAME, PostgresBell
from bot.delivery.build import build_worker
from bot.delivery.worker import OutboxWorker
from bot.web.app import create_app
from bot.wiring import build_services
from tests.bot.channels.conftest import WEBHOOK_SECRET, outbox_rows
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram, update_message

POLL = 120.0  # the sender's poll: far longer than any wait below, so only a wake-up can pass
PROMPT = 10.0  # seconds a woken sender may take on a busy shared machine


async def _within(seconds: float, done: Callable[[], bool]) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not done():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.fixture
async def sender(channel_services: Services) -> AsyncIterator[OutboxWorker]:
    """The scheduler's sender, polling only every POLL seconds."""
    worker = build_worker(channel_services)
    assert worker.bell is not None
    running = asyncio.create_task(worker.run(interval=POLL))
    yield worker
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await worker.close()


async def _post(app_client: httpx.AsyncClient, update_id: int, chat: int, words: str) -> None:
    update = update_message(update_id, chat, words)
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    response = await app_client.post("/telegram/webhook", json=update, headers=headers)
    assert response.status_code == 200


# NOTIFY is PostgreSQL's; on SQLite the one process that serves also sends.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_reply_queued_by_a_worker_that_does_not_send_goes_out_at_once(
    channel_services: Services, sender: OutboxWorker, tg: FakeTelegram, clock: FakeClock
) -> None:
    assert await _within(PROMPT, lambda: sender.woken >= 1)  # the bell listens (rang once)
    web = build_services(channel_services.settings, now=clock)  # another process's store
    app = create_app(web.settings, services=web, migrate=False, send=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5") as client,
    ):
        assert app.state.messaging._task is None  # this worker sends nothing
        await _post(client, 1, 4001, "/start")
        assert await _within(PROMPT, lambda: bool(tg.sent_messages(4001)))
        assert "Welcome to" in tg.sent_messages(4001)[0]["text"]
        assert sender.woken >= 2
        # The listening connection is cut: the bell connects again and still wakes it.
        bell_owner = sender.bell.__self__  # type: ignore[union-attr]
        assert isinstance(bell_owner, PostgresBell) and bell_owner.connects == 1
        async with channel_services.sessions.begin() as session:
            cut = await session.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = :bell"
                ),
                {"bell": APPLICATION_NAME},
            )
        assert cut == 1
        assert await _within(PROMPT, lambda: bell_owner.connects == 2)
        await _post(client, 2, 4002, "/start")
        assert await _within(PROMPT, lambda: bool(tg.sent_messages(4002)))
    assert {r.status for r in await outbox_rows(channel_services)} == {"sent"}
