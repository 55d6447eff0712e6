"""One scheduler leads: a PostgreSQL advisory lock, or a lock file beside a SQLite database."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.services import Services
from storage.jobruns import LOCK_KEY, lock_file

if TYPE_CHECKING:
    pass

RETRY_SECONDS = 15.0


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
        import asyncpg  # only a PostgreSQL deployment needs the driver loaded

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
        self.path = lock_file(database_url)
        self.fd: int | None = None

    async def acquire(self) -> bool:
        if self.path is None:
            return True
        import fcntl  # POSIX only; SQLite on another OS runs without the lock file

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
