"""Engine and sessions for SQLite (embedded default) and PostgreSQL, and schema migration."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_driver import one_trip_module

MIGRATIONS = Path(__file__).parent / "migrations"


class _NoResultRows(logging.Filter):
    """SQLAlchemy at DEBUG logs each result row, decrypted: the parents' records. Never."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in ("Row %r", "Col %r")


class _NoStatements(logging.Filter):
    """aiosqlite at DEBUG logs each call with its arguments: keep the line, hide the data."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple("(hidden)" for _ in record.args)
        return True


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoResultRows())
logging.getLogger("aiosqlite").addFilter(_NoStatements())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL for readers beside a writer, enforced foreign keys, a busy wait, full fsync."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def private_sqlite_file(url: str) -> None:
    """Create a new SQLite file readable by its owner only (0600) before SQLite opens it with
    the umask's wider mode; SQLite gives its -wal and -shm files the same mode."""
    if not url.startswith("sqlite"):
        return
    path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""  # "sqlite://": memory
    if not path or path == ":memory:" or path.startswith("file:") or os.path.exists(path):
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # Another process may create it first: it makes it the same way.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets its pragmas on every connection.

    Bound parameters are never logged: they are the parents' words and numbers.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        private_sqlite_file(url)
        if url.startswith("sqlite+aiosqlite"):
            kwargs.setdefault("module", one_trip_module())
            # SQLAlchemy's Connection rolls back an open transaction as it closes; the pool's
            # second rollback on return would be one more trip to the thread per transaction.
            kwargs.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_async_engine(url, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", lock_wait: float | None = None) -> None:
    """Bring the schema to `revision` (blocking; call from a thread inside a running loop).

    Safe to start from many processes at once: one migrates, the others wait for it (up to
    `lock_wait` seconds, storage.migration_lock) and then find nothing to do."""
    config = alembic_config(url)
    if lock_wait is not None:
        config.attributes["lock_wait"] = lock_wait
    command.upgrade(config, revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
