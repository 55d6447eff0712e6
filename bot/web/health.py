"""`/readyz`: whether this worker should get traffic; `/healthz` only says the process is alive.

Ready means: the database answers, its schema is at the code's migration head, a scheduler
leads (on PostgreSQL: someone holds the advisory lock), and the outbox is draining (its oldest
due row is younger than a threshold). Otherwise 503 with every reason, for the operator.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.conversation.helpline import Helpline
from bot.core.settings import Settings
from storage import jobruns
from storage.db import alembic_config
from storage.models import OutboxMessage

OUTBOX_MAX_AGE = timedelta(minutes=15)
# On SQLite the lock is a file beside the database; a fresh job success also shows a leader.
SQLITE_LEADER_FRESH = timedelta(minutes=2)
CHECK_TIMEOUT = 5.0
WAITING = ("pending", "sending")


@dataclass(frozen=True)
class Outbox:
    """Rows waiting per channel, and how long the oldest due one has waited."""

    backlog: dict[str, int]
    oldest_due: timedelta | None


async def outbox_state(session: AsyncSession, now: datetime) -> Outbox:
    rows = await session.execute(
        select(OutboxMessage.channel, func.count())
        .where(OutboxMessage.status.in_(WAITING))
        .group_by(OutboxMessage.channel)
    )
    oldest = await session.scalar(
        select(func.min(OutboxMessage.send_after)).where(
            OutboxMessage.status.in_(WAITING), OutboxMessage.send_after <= now
        )
    )
    age = now - oldest if oldest is not None else None
    return Outbox({channel: int(n) for channel, n in rows.all()}, age)


async def scheduler_leads(session: AsyncSession, settings: Settings, now: datetime) -> bool:
    if not settings.is_sqlite:
        return await jobruns.leader_lock_held(session)
    if jobruns.lock_file_held(jobruns.lock_file(settings.database_url)):
        return True
    latest = await jobruns.latest_success(session)
    return latest is not None and now - latest <= SQLITE_LEADER_FRESH


def migration_head(settings: Settings) -> str | None:
    return ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()


async def problems(services: Helpline, head: str | None) -> list[str]:
    """What stops this worker being ready; empty when it is."""
    now = services.now()
    found: list[str] = []
    async with services.sessions() as session:
        try:
            await session.execute(text("SELECT 1"))
        except Exception:
            return ["database unavailable"]
        try:
            version = await session.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception:
            return ["database not migrated (run `helpline db upgrade`)"]
        if version != head:
            found.append(f"schema at {version}, code expects {head} (run `helpline db upgrade`)")
        if not await scheduler_leads(session, services.settings, now):
            found.append("no scheduler leads (start `helpline scheduler`)")
        outbox = await outbox_state(session, now)
    if outbox.oldest_due is not None and outbox.oldest_due > OUTBOX_MAX_AGE:
        minutes = int(outbox.oldest_due.total_seconds() // 60)
        found.append(f"outbox not draining: oldest due row waiting {minutes} min")
    return found


def routes(services: Helpline) -> list[Route]:
    head = migration_head(services.settings)

    async def readyz(request: Request) -> Response:
        try:
            found = await asyncio.wait_for(problems(services, head), CHECK_TIMEOUT)
        except Exception:  # a database that hangs or drops the connection mid-check
            found = ["database unavailable"]
        if found:
            return JSONResponse({"status": "not ready", "reasons": found}, status_code=503)
        return JSONResponse({"status": "ready"})

    return [Route("/readyz", readyz, methods=["GET"])]
