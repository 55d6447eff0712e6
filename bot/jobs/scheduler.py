"""The scheduler: the SLA sweep, idle conversations, the officers' queues and the digest.

Exactly one scheduler fires. On PostgreSQL the leader holds a session advisory lock on a
connection of its own; a standby retries every 15 s and takes over once the leader's connection
is gone (the server releases the lock when its session dies). On SQLite, run one scheduler
process per database: a lock file beside the database stops a second one on the same machine.
The jobs only sweep the store, so a restart or a takeover loses and doubles nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.conversation.helpline import Helpline
from bot.conversation.idle import expire_idle
from bot.conversation.nudge import start_nudges
from bot.delivery.staff import Senders, dispatch
from bot.domain.digest import send_digest, send_officer_queues
from bot.domain.retention import apply_retention
from bot.domain.sla import sweep
from bot.jobs.leadership import RETRY_SECONDS, Leadership, leadership_for
from bot.jobs.providers import telegram_health_job
from storage import jobruns

if TYPE_CHECKING:
    from bot.delivery.staff import Senders

log = logging.getLogger(__name__)

Job = Callable[[Helpline, datetime], Awaitable[Any]]


# -- the jobs: plain functions of (services, now); the scheduler only calls them ------------
# Sending is the staff-dispatch job's alone (every 15 s): the jobs below only queue rows.
async def minute_job(services: Helpline, now: datetime) -> None:

    await sweep(services, now)
    await start_nudges(services, now)


async def dispatch_job(services: Helpline, now: datetime, senders: Senders | None = None) -> None:

    await dispatch(services, now, senders)


async def idle_job(services: Helpline, now: datetime) -> None:

    await expire_idle(services.router, now)


async def officer_queue_job(services: Helpline, now: datetime) -> None:

    await send_officer_queues(services, now)  # skips closed days itself


async def digest_job(services: Helpline, now: datetime) -> None:

    await send_digest(services, now)  # skips bank holidays and closures itself


async def retention_job(services: Helpline, now: datetime) -> None:
    """Nightly: delete or anonymise what is past its retention period (UK GDPR)."""

    await apply_retention(services, now)


def schedule(services: Helpline, senders: Senders | None = None) -> list[tuple[str, Job, Any]]:
    """The jobs; `senders` (kept by the runner) lets every staff dispatch reuse one connection."""
    zone = ZoneInfo(services.settings.timezone)
    send = functools.partial(dispatch_job, senders=senders)
    return [
        ("sla-sweep", minute_job, IntervalTrigger(minutes=1, timezone=zone)),
        ("staff-dispatch", send, IntervalTrigger(seconds=15, timezone=zone)),
        ("idle-conversations", idle_job, IntervalTrigger(minutes=10, timezone=zone)),
        (
            "officer-queues",
            officer_queue_job,
            CronTrigger(day_of_week="mon-fri", hour=9, timezone=zone),
        ),
        (
            "manager-digest",
            digest_job,
            CronTrigger(day_of_week="mon-fri", hour=8, minute=30, timezone=zone),
        ),
        ("retention", retention_job, CronTrigger(hour=2, minute=15, timezone=zone)),
        ("provider-health", telegram_health_job, IntervalTrigger(minutes=5, timezone=zone)),
    ]


class SchedulerRunner:
    """Stand by until leader, then run the jobs; step down if the lock's connection dies."""

    def __init__(
        self,
        services: Helpline,
        leadership: Leadership | None = None,
        *,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.services = services
        self.leadership = leadership or leadership_for(services)
        self.retry_seconds = retry_seconds
        self.scheduler: AsyncIOScheduler | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.became_leader = asyncio.Event()
        self.senders: Senders | None = None

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def _start_jobs(self) -> None:

        scheduler = AsyncIOScheduler(timezone=ZoneInfo(self.services.settings.timezone))
        self.senders = Senders.from_settings(self.services.settings)
        for name, job, trigger in schedule(self.services, self.senders):
            scheduler.add_job(
                self._call,
                trigger,
                args=[name, job],
                id=name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=60,
            )
        scheduler.start()
        self.scheduler = scheduler

    async def _call(self, name: str, job: Job) -> None:
        try:
            await job(self.services, self.services.now())
            async with self.services.sessions.begin() as session:  # readiness and /metrics
                await jobruns.succeeded(session, name, self.services.now())
        except Exception:
            log.exception("scheduled job %s failed; it runs again at its next time", name)

    async def _stop_jobs(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self.senders is not None:
            senders, self.senders = self.senders, None
            await senders.close()

    async def run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self.is_leader and await self.leadership.acquire():
                    log.info("scheduler: leader, running the jobs")
                    self._start_jobs()
                    self.became_leader.set()
                elif self.is_leader and not await self.leadership.alive():
                    log.warning("scheduler: lost the leader lock; standing by")
                    await self._stop_jobs()
                    self.became_leader.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.retry_seconds)
        finally:
            await self._stop_jobs()
            await self.leadership.release()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
