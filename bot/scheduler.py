"""The scheduler: the SLA sweep, idle conversations, the officers' queues and the digest.

Exactly one scheduler fires. On PostgreSQL the leader holds a session advisory lock on a
connection of its own; a standby retries every 15 s and takes over once the leader's connection
is gone (the server releases the lock when its session dies). On SQLite, run one scheduler
process per database: a lock file beside the database stops a second one on the same machine.
The jobs only sweep the store, so a restart or a takeover loses and doubles nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.services import Services

if TYPE_CHECKING:
    from bot.notify import Senders

log = logging.getLogger(__name__)
LOCK_KEY = 0x68656C706C696E65  # "helpline": one advisory lock per database
RETRY_SECONDS = 15.0

Job = Callable[[Services, datetime], Awaitable[Any]]


class Leadership(Protocol):
    async def acquire(self) -> bool: ...
    async def alive(self) -> bool: ...
    async def release(self) -> None: ...


class PostgresLeadership:
    """pg_try_advisory_lock on a dedicated connection (never a pooled one: the lock is the
    session's, and a pool would hand the session to someone else)."""

    def __init__(self, database_url: str, key: int = LOCK_KEY) -> None:
        self.dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.key = key
        self.connection: Any = None

    async def acquire(self) -> bool:
        import asyncpg

        try:
            if self.connection is None or self.connection.is_closed():
                self.connection = await asyncpg.connect(self.dsn, timeout=10)
            got = bool(await self.connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key))
        except (TimeoutError, OSError, asyncpg.PostgresError):
            await self.release()
            return False
        return got

    async def alive(self) -> bool:
        try:
            await asyncio.wait_for(self.connection.fetchval("SELECT 1"), timeout=10)
        except Exception:
            await self.release()
            return False
        return True

    async def release(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=5)  # closing the session frees the lock


class FileLeadership:
    """SQLite: an exclusive lock file beside the database (one scheduler per machine)."""

    def __init__(self, database_url: str) -> None:
        path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
        self.path = f"{path}.scheduler.lock" if path and path != ":memory:" else None
        self.fd: int | None = None

    async def acquire(self) -> bool:
        if self.path is None:
            return True
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    async def alive(self) -> bool:
        return True

    async def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None


def leadership_for(services: Services) -> Leadership:
    if services.settings.is_sqlite:
        return FileLeadership(services.settings.database_url)
    return PostgresLeadership(services.settings.database_url)


# -- the jobs: plain functions of (services, now); the scheduler only calls them ------------
# Sending is the staff-dispatch job's alone (every 15 s): the jobs below only queue rows.
async def minute_job(services: Services, now: datetime) -> None:
    from bot.nudge import start_nudges
    from bot.sla import sweep

    await sweep(services, now)
    await start_nudges(services, now)


async def dispatch_job(services: Services, now: datetime, senders: Senders | None = None) -> None:
    from bot.notify import dispatch

    await dispatch(services, now, senders)


async def idle_job(services: Services, now: datetime) -> None:
    from bot.idle import expire_idle

    await expire_idle(services.router, now)


async def officer_queue_job(services: Services, now: datetime) -> None:
    from bot.digest import send_officer_queues

    await send_officer_queues(services, now)  # skips closed days itself


async def digest_job(services: Services, now: datetime) -> None:
    from bot.digest import send_digest

    await send_digest(services, now)  # skips bank holidays and closures itself


async def retention_job(services: Services, now: datetime) -> None:
    """Nightly: delete or anonymise what is past its retention period (UK GDPR)."""
    from bot.retention import apply_retention

    await apply_retention(services, now)


def schedule(services: Services, senders: Senders | None = None) -> list[tuple[str, Job, Any]]:
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
    ]


class SchedulerRunner:
    """Stand by until leader, then run the jobs; step down if the lock's connection dies."""

    def __init__(
        self,
        services: Services,
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
        from bot.notify import Senders

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


async def run_alone(services: Services, args: argparse.Namespace) -> int:
    """`helpline scheduler`: the jobs without the web app, until SIGINT or SIGTERM."""
    await services.migrate()
    runner = SchedulerRunner(services)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runner._stop.set)
    log.info("scheduler: standing by for the leader lock")
    await runner.run()
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("scheduler", help="run the SLA sweep, queues and digest alone")
    p.set_defaults(run=run_alone)
