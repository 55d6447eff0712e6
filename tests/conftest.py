"""Shared fixtures: the store on SQLite and on the real PostgreSQL, an injected clock, the services.

PostgreSQL is not optional in CI (HELPLINE_REQUIRE_POSTGRES=1): a missing server fails the run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

os.environ.setdefault("PTB_TIMEDELTA", "true")

import pytest
from sqlalchemy import text

from bot.core.services import Services
from bot.core.settings import Settings, database_url
from bot.wiring import build_services
from storage import crypto
from storage.db import make_engine, upgrade
from storage.models import Base

T = TypeVar("T")
LONDON = ZoneInfo("Europe/London")
POSTGRES_URL = os.environ.get(
    "HELPLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def london(*args: int) -> datetime:
    """A wall-clock time in the office's zone, as an aware UTC datetime."""
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)  # type: ignore[misc]


class FakeClock:
    """The time as the code under test sees it; tests move it by hand."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


async def _create_postgres_database() -> str:
    import asyncpg

    base = database_url(POSTGRES_URL).replace("postgresql+asyncpg", "postgresql")
    name = f"helpline_test_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(base)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return base.rsplit("/", 1)[0] + "/" + name


async def _drop_postgres_database(url: str) -> None:
    import asyncpg

    base = database_url(POSTGRES_URL).replace("postgresql+asyncpg", "postgresql")
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(base)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking set-up (its own event loop) beside the test's running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Build any missing or stale .mo from the committed .po, as `make locales-compile` does."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from bot.core.i18n import LOCALES

    for po in LOCALES.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source, locale=po.parent.parent.name))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A fresh, migrated PostgreSQL database for the session (None when absent and not required)."""
    try:
        url = in_thread(asyncio.run, _create_postgres_database())
    except Exception as exc:
        if os.environ.get("HELPLINE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here and could not be reached: {exc}")
        yield None
        return
    async_url = database_url(url)
    in_thread(upgrade, async_url)
    yield async_url
    in_thread(asyncio.run, _drop_postgres_database(url))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "helpline.db"
    in_thread(upgrade, f"sqlite+aiosqlite:///{path}")
    return path


async def _truncate(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    """The store under test: every test that takes it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "helpline.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    yield await _emptied(request.getfixturevalue("postgres_url"))


async def _emptied(url: str | None) -> str:
    """The session's PostgreSQL database with every table emptied (skip when there is none)."""
    if url is None:
        pytest.skip("PostgreSQL not running here (CI requires it)")
    await _truncate(url)
    return url


@pytest.fixture
async def postgres(postgres_url: str | None) -> str:
    """For tests that only make sense on PostgreSQL: its URL, every table emptied."""
    return await _emptied(postgres_url)


def _empty_postgres() -> Iterator[str]:
    try:
        url = in_thread(asyncio.run, _create_postgres_database())
    except Exception as exc:
        if os.environ.get("HELPLINE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here and could not be reached: {exc}")
        pytest.skip("PostgreSQL not running here (CI requires it)")
    yield database_url(url)
    in_thread(asyncio.run, _drop_postgres_database(url))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has migrated yet (a new SQLite file's path, or a new PostgreSQL
    database, dropped afterwards), for what happens on a first start."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
        return
    yield from _empty_postgres()


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A new PostgreSQL database nobody has migrated yet (dropped afterwards)."""
    yield from _empty_postgres()


@pytest.fixture
def clock() -> FakeClock:
    # Monday 23 November 2026, 10:00 in London: an ordinary working morning.
    return FakeClock(london(2026, 11, 23, 10, 0))


# Fixed test keys (never used outside tests): encryption at rest runs in every test.
TEST_ENCRYPTION_KEY = "pP0Dq3x0vGmz6yVb5QyS5hZqk3n6cT2mJq8cL7u4Z1E="
TEST_LOOKUP_KEY = "test-lookup-key"


# Servers the tests start as subprocesses (fault tests) get the same keys, and so does this
# process when a test reads the store directly, whatever ran before it.
os.environ.setdefault("HELPLINE_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEY)
os.environ.setdefault("HELPLINE_LOOKUP_KEY", TEST_LOOKUP_KEY)
crypto.configure([TEST_ENCRYPTION_KEY], TEST_LOOKUP_KEY)


def test_settings(database: str, **changes: Any) -> Settings:
    """Settings for a test database, English only unless asked, with the fixed test keys."""
    changes.setdefault("languages", ("en",))
    return replace(
        Settings(),
        database_url=database,
        encryption_keys=(TEST_ENCRYPTION_KEY,),
        lookup_key=TEST_LOOKUP_KEY,
        **changes,
    )


test_settings.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return test_settings(db_url)


@pytest.fixture
async def services(settings: Settings, clock: FakeClock) -> AsyncIterator[Services]:
    built = build_services(settings, now=clock)
    yield built
    await built.close()
