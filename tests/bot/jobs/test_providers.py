"""The provider-health job against the fake Bot API: admins hear when Telegram's updates pile
up or its deliveries keep failing, once an hour at most, and nobody else is bothered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from bot.core.services import Services
from bot.delivery.staff import dispatch
from bot.jobs.providers import telegram_health_job
from bot.jobs.scheduler import schedule
from bot.wiring import build_services
from storage.models import OutboxMessage
from tests.bot.queue_helpers import add_staff, outbox_rows
from tests.conftest import FakeClock
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeTelegram

ADMIN_CHAT, MANAGER_CHAT = "3003", "2002"
FAILING = "Wrong response from the webhook: 502 Bad Gateway"


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    fake.webhook = {"url": "https://helpline.example.org/telegram/webhook"}
    yield fake


@pytest.fixture
async def watched(
    services: Services, tg: FakeTelegram, clock: FakeClock
) -> AsyncIterator[Services]:
    with LiveServer(tg.app) as server:
        settings = replace(
            services.settings,
            telegram_bot_token=tg.token,
            telegram_webhook_secret="secret",
            telegram_api_base_url=f"{server.url}/bot",
            public_url="https://helpline.example.org",
        )
        built = build_services(settings, now=clock)
        await add_staff(built, "ops@council.gov.uk", role="admin", chat_id=ADMIN_CHAT)
        await add_staff(built, "sue@council.gov.uk", role="manager", chat_id=MANAGER_CHAT)
        yield built
        await built.close()


async def alerts(services: Services) -> list[OutboxMessage]:
    return [row for row in await outbox_rows(services) if row.kind.startswith("ops:")]


async def test_pending_updates_alert_the_admins_once_an_hour(
    watched: Services, tg: FakeTelegram, clock: FakeClock
) -> None:
    await telegram_health_job(watched, clock())
    assert await alerts(watched) == []  # a healthy webhook: nothing to say

    tg.webhook_trouble(120, FAILING, at=int(clock().timestamp()) - 60)
    await telegram_health_job(watched, clock())
    rows = await alerts(watched)
    assert [(r.channel, r.address, r.kind) for r in rows] == [
        ("staff", f"telegram:{ADMIN_CHAT}", "ops:telegram_pending")
    ]
    assert "120 updates waiting" in rows[0].payload["text"]
    assert FAILING in rows[0].payload["text"]

    clock.advance(minutes=10)
    await telegram_health_job(watched, clock())
    assert len(await alerts(watched)) == 1  # the same trouble, not an hour later: quiet
    clock.advance(minutes=55)
    await telegram_health_job(watched, clock())
    assert len(await alerts(watched)) == 2

    assert await dispatch(watched, clock()) == 2
    assert len(tg.sent_messages(int(ADMIN_CHAT))) == 2
    assert tg.sent_messages(int(MANAGER_CHAT)) == []


async def test_repeated_errors_alert_even_with_few_updates_waiting(
    watched: Services, tg: FakeTelegram, clock: FakeClock
) -> None:
    yesterday = int(clock().timestamp()) - 86_400
    tg.webhook_trouble(3, FAILING, at=yesterday)  # an old error, since recovered
    await telegram_health_job(watched, clock())
    assert await alerts(watched) == []
    tg.webhook_trouble(3, FAILING, at=int(clock().timestamp()) - 120)  # still failing now
    await telegram_health_job(watched, clock())
    assert [r.kind for r in await alerts(watched)] == ["ops:telegram_pending"]


async def test_a_missing_webhook_or_an_unreachable_api_alerts(
    watched: Services, tg: FakeTelegram, clock: FakeClock
) -> None:
    tg.webhook = {}
    await telegram_health_job(watched, clock())
    assert [r.kind for r in await alerts(watched)] == ["ops:telegram_no_webhook"]
    tg.fail_next("getMe", 500)
    await telegram_health_job(watched, clock())
    kinds = [r.kind for r in await alerts(watched)]
    assert kinds == ["ops:telegram_no_webhook", "ops:telegram_unreachable"]
    assert tg.token not in str([r.payload for r in await alerts(watched)])


def test_the_scheduler_runs_it(services: Services) -> None:
    jobs = {name: job for name, job, _ in schedule(services)}
    assert jobs["provider-health"] is telegram_health_job
