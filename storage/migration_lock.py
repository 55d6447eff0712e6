"""One migration at a time, however many processes start together.

systemd starts every worker and the scheduler of `helpline.target` at once, and each migrates
the schema as it starts: on an empty database they would all create the same tables. Each takes
this lock first (PostgreSQL: a session advisory lock on the connection Alembic migrates on;
SQLite: a lock file beside the database, as the scheduler's leader lock is). Whoever waited
then reads the version Alembic left and finds nothing to do. A lock not had in time is said in
one line, naming the holder, instead of waiting forever.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

KEY = 0x68656C706D696772  # "helpmigr"; the scheduler's leader lock is another key
WAIT_SECONDS = 120.0
LOCK_TIMEOUT = "55P03"  # PostgreSQL's lock_not_available: lock_timeout ran out
_HOLDERS = text(
    "SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.classid = :high AND l.objid = :low"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class MigrationLocked(Exception):
    """Another process has been migrating the schema for longer than we would wait."""


def holder_line() -> str:
    """Who we are, for the lock file and PostgreSQL's application_name (63 bytes kept)."""
    return f"helpline migrate pid {os.getpid()} on {socket.gethostname()}"


def _refusal(who: str, seconds: float) -> MigrationLocked:
    return MigrationLocked(
        f"another process is migrating the schema ({who}) and did not finish within "
        f"{seconds:g} s: wait for it, or stop it, then start again"
    )


@contextlib.contextmanager
def advisory_lock(connection: Connection, seconds: float = WAIT_SECONDS) -> Iterator[None]:
    """PostgreSQL: hold the session lock on `connection` for the block; released on failure
    too. The block must commit its work itself, before the lock goes to the next one."""
    # lock_timeout bounds the wait; LOCAL: it ends with this transaction, not the migration's.
    connection.execute(text(f"SET LOCAL lock_timeout = {max(1, int(seconds * 1000))}"))
    try:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": KEY})
    except DBAPIError as exc:
        connection.rollback()
        if getattr(exc.orig, "sqlstate", None) != LOCK_TIMEOUT:
            raise
        raise _refusal(_postgres_holders(connection), seconds) from None
    connection.commit()
    try:
        yield
    finally:
        with contextlib.suppress(DBAPIError):  # a lost connection has let go already
            if connection.in_transaction():
                connection.rollback()  # a failed migration's aborted transaction
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": KEY})
            connection.commit()


def _postgres_holders(connection: Connection) -> str:
    rows = connection.execute(_HOLDERS, {"high": KEY >> 32, "low": KEY & 0xFFFFFFFF}).all()
    connection.rollback()
    names = [f"{name or 'unnamed'}, PostgreSQL backend {pid}" for pid, name in rows]
    return "; ".join(names) or "it let go just now"


def lock_path(url: str) -> str | None:
    """`<database>.migrate.lock` beside a SQLite file; None for an in-memory database (no other
    process can reach it) or PostgreSQL."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return f"{path}.migrate.lock"


@contextlib.contextmanager
def file_lock(
    url: str,
    seconds: float = WAIT_SECONDS,
    *,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """SQLite: hold `<database>.migrate.lock` (flock, so a killed holder lets go) for the block."""
    path = lock_path(url)
    if path is None:
        yield
        return
    import fcntl  # POSIX only, as the scheduler's lock file (storage.jobruns)

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = clock() + seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if clock() >= deadline:
                    raise _refusal(_file_holder(fd, path), seconds) from None
                pause(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder_line().encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the flock


def _file_holder(fd: int, path: str) -> str:
    written = os.pread(fd, 200, 0).decode(errors="replace").strip()
    return f"{written or 'unknown'}, see {path}"
