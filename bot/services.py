"""The parts every entry point shares (web app, CLI, scheduler), built once from the settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.calendar import WorkingClock
from bot.config import Settings
from bot.i18n import Catalogs
from bot.router import Router, utcnow
from flows.feedback import FEEDBACK, store_feedback
from storage.db import make_engine, make_sessionmaker, upgrade


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: WorkingClock
    catalogs: Catalogs
    router: Router
    now: Callable[[], datetime] = field(default=utcnow)

    async def migrate(self) -> None:
        """Bring the schema up to date (Alembic runs its own loop, so in a thread)."""
        await asyncio.to_thread(upgrade, self.settings.database_url)

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


def build_services(settings: Settings, now: Callable[[], datetime] = utcnow) -> Services:
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    clock = make_clock(settings)
    catalogs = Catalogs(settings.languages)
    router = Router(sessions, settings, clock, catalogs, now=now)
    router.register_flow(FEEDBACK, store_feedback)
    return Services(settings, engine, sessions, clock, catalogs, router, now)
