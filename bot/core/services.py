"""The parts every entry point shares (web app, CLI, scheduler), built once from the settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.clock import WorkingClock
from bot.core.errors import HelplineError
from bot.core.i18n import Catalogs
from bot.core.keys import check_lookup_key
from bot.core.settings import Settings
from flows.engine import Reply
from storage.db import upgrade
from storage.migration_lock import MigrationLocked
from storage.models import Contact


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class Services:
    """What the domain needs: settings, the store, the clock, the catalogs and the time now.
    The message path adds its router on top (bot.conversation.Helpline)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: WorkingClock
    catalogs: Catalogs
    now: Callable[[], datetime] = field(default=utcnow)

    async def migrate(self) -> None:
        """Bring the schema up to date (Alembic runs its own loop, so in a thread); any number
        of processes may do so at once (storage.migration_lock)."""
        try:
            await asyncio.to_thread(upgrade, self.settings.database_url)
        except MigrationLocked as exc:
            raise HelplineError(str(exc)) from None
        await check_lookup_key(self.sessions, self.now())

    async def close(self) -> None:
        await self.engine.dispose()


def make_clock(settings: Settings) -> WorkingClock:
    return WorkingClock(
        nation=settings.nation,
        timezone=settings.timezone,
        opens=settings.opens,
        closes=settings.closes,
        working_day_hours=settings.working_day_hours,
        closures=settings.closures,
    )


class FlowStarter(Protocol):
    """What domain code may ask of the message path: begin a service-started flow (the survey,
    the nudge) with a contact. The router implements it; the domain never imports the router."""

    async def start_flow(
        self,
        session: AsyncSession,
        contact: Contact,
        flow_name: str,
        state: dict[str, Any],
        now: datetime,
        enquiry_id: int | None = None,
        *,
        kind: str,
    ) -> list[Reply] | None: ...
