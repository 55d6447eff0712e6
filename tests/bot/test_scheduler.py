"""Exactly one scheduler fires: two leaders against the real PostgreSQL, and the standby takes
over when the leader dies; concurrent sweeps still send each alert once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.core.services import Services
from bot.domain.sla import sweep
from bot.jobs.leadership import FileLeadership, PostgresLeadership
from bot.jobs.scheduler import SchedulerRunner, schedule
from tests.bot.queue_helpers import add_staff, outbox_rows, receive, services_with
from tests.conftest import FakeClock, london, test_settings


@pytest.fixture
async def pg(postgres: str, clock: FakeClock) -> AsyncIterator[list[Services]]:
    settings = test_settings(postgres)
    both = [services_with(settings, clock), services_with(settings, clock)]
    yield both
    for services in both:
        await services.close()


async def test_only_one_of_two_lock_holders_leads(pg: list[Services]) -> None:
    url = pg[0].settings.database_url
    first, second = PostgresLeadership(url), PostgresLeadership(url)
    try:
        assert await first.acquire()
        assert not await second.acquire()
        assert not await second.acquire()  # retrying does not steal it
        assert await first.alive()
        await first.release()
        assert await second.acquire()
        assert not await first.acquire()
    finally:
        await first.release()
        await second.release()


async def test_the_standby_takes_over_when_the_leader_dies(pg: list[Services]) -> None:
    leader = SchedulerRunner(pg[0], retry_seconds=0.05)
    standby = SchedulerRunner(pg[1], retry_seconds=0.05)
    leader.start()
    try:
        await asyncio.wait_for(leader.became_leader.wait(), 10)
        standby.start()
        for _ in range(10):  # the standby keeps trying and keeps failing while the leader lives
            await asyncio.sleep(0.05)
            assert not standby.is_leader
        assert leader.scheduler is not None
        assert {job.id for job in leader.scheduler.get_jobs()} == {n for n, _, _ in schedule(pg[0])}
        # The leader's process dies: the server ends its session, and with it the lock.
        assert isinstance(leader.leadership, PostgresLeadership)
        pid = leader.leadership.connection.get_server_pid()
        admin = await asyncpg.connect(leader.leadership.dsn)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        await asyncio.wait_for(standby.became_leader.wait(), 10)
        for _ in range(200):  # the old leader notices and stands down
            if not leader.is_leader:
                break
            await asyncio.sleep(0.05)
        assert not leader.is_leader and standby.is_leader
    finally:
        await leader.stop()
        await standby.stop()


async def test_two_schedulers_sweeping_at_once_send_each_alert_once(
    pg: list[Services], clock: FakeClock
) -> None:
    await add_staff(pg[0], "sue@council.gov.uk", role="manager")
    await receive(pg[0], london(2026, 11, 23, 10, 0))  # nobody on duty; due Tue 10:00
    clock.set(london(2026, 11, 24, 8, 30))
    for minute in range(0, 120, 5):  # Tue 08:30 .. 10:25, both schedulers every time
        now = clock.advance(minutes=5) if minute else clock()
        await asyncio.gather(*(sweep(s, now) for s in pg for _ in range(3)))
    assert len(await outbox_rows(pg[0], kind="reminder")) == 1
    assert len(await outbox_rows(pg[0], kind="escalation")) == 1


async def test_on_sqlite_a_lock_file_keeps_a_second_scheduler_out(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/helpline.db"
    first, second = FileLeadership(url), FileLeadership(url)
    assert await first.acquire()
    assert not await second.acquire()
    await first.release()
    assert await second.acquire()
    await second.release()
