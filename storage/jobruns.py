"""The scheduler's traces: each job's last success, and whether someone holds the leader lock.

The scheduler runs in a process of its own that serves no HTTP, so readiness and /metrics in
any web worker read these from the database instead of from the scheduler's memory.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobRun

LOCK_KEY = 0x68656C706C696E65  # "helpline": the scheduler's advisory lock, one per database
# pg_locks shows a bigint advisory key as two 32-bit halves (classid, objid) with objsubid 1.
_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND objsubid = 1 AND classid = :high AND objid = :low"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def succeeded(session: AsyncSession, name: str, now: datetime) -> None:
    """Record that job `name` finished well at `now` (one row per job, updated in place)."""
    done = await session.execute(
        update(JobRun).where(JobRun.name == name).values(last_success_at=now)
    )
    if not getattr(done, "rowcount", 0):
        session.add(JobRun(name=name, last_success_at=now))


async def last_successes(session: AsyncSession) -> dict[str, datetime]:
    rows = await session.execute(select(JobRun.name, JobRun.last_success_at))
    return {name: at for name, at in rows.all()}


async def latest_success(session: AsyncSession) -> datetime | None:
    found: datetime | None = await session.scalar(select(func.max(JobRun.last_success_at)))
    return found


async def leader_lock_held(session: AsyncSession) -> bool:
    """PostgreSQL only: whether some session (any process, any machine) holds the lock."""
    held = await session.scalar(_HELD, {"high": LOCK_KEY >> 32, "low": LOCK_KEY & 0xFFFFFFFF})
    return bool(held)


def lock_file(database_url: str) -> str | None:
    """SQLite: the scheduler's lock file beside the database (None for an in-memory one)."""
    path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
    return f"{path}.scheduler.lock" if path and path != ":memory:" else None


def lock_file_held(path: str | None) -> bool:
    """SQLite: whether a scheduler holds the lock file, by trying it for an instant."""
    if path is None or not os.path.exists(path):
        return False
    import fcntl  # POSIX only, as the lock itself (bot.jobs.leadership.FileLeadership)

    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
