"""Migrations started at once by many processes run one at a time; the others find the schema
at head and do nothing; a lock that is not had in time is said in one line, naming its holder."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text

from storage import migration_lock
from storage.db import alembic_config, make_engine, upgrade
from tests.conftest import in_thread

ROOT = Path(__file__).resolve().parents[2]
# One process's migration, started with the others once all are ready to go.
MIGRATOR = """
import logging, sys, time, pathlib
from storage.db import upgrade
logging.basicConfig(level=logging.INFO, format="%(message)s")
ready, go, url = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
ready.touch()
while not go.exists():
    time.sleep(0.01)
upgrade(url)
"""
PROCESSES = 4


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def versions(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


def _migrate_at_once(url: str, tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    go = tmp_path / "go"
    started = []
    for n in range(PROCESSES):
        command = [sys.executable, "-c", MIGRATOR, str(tmp_path / f"ready{n}"), str(go), url]
        started.append(
            subprocess.Popen(
                command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{n}").exists() for n in range(PROCESSES)):
        assert time.monotonic() < deadline, "the migrating processes never got ready"
        time.sleep(0.01)
    go.touch()
    return [
        subprocess.CompletedProcess(p.args, p.wait(300), p.communicate()[0], "") for p in started
    ]


async def test_four_processes_migrate_an_empty_database_once(
    empty_db_url: str, tmp_path: Path
) -> None:
    done = await asyncio.to_thread(_migrate_at_once, empty_db_url, tmp_path)
    outputs = "\n".join(process.stdout for process in done)
    assert [process.returncode for process in done] == [0] * PROCESSES, outputs
    assert "Traceback" not in outputs
    # The first step ran in one process only: the others found the schema at head.
    assert outputs.count("Running upgrade  -> 0001") == 1, outputs
    assert await versions(empty_db_url) == [head()]


def _hold_sqlite(url: str) -> int:
    path = migration_lock.lock_path(url)
    assert path is not None
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, migration_lock.holder_line().encode())
    return fd


async def _refused(url: str) -> str:
    with pytest.raises(migration_lock.MigrationLocked) as refused:
        await asyncio.to_thread(upgrade, url, "head", 1.0)
    return str(refused.value)


async def test_a_lock_not_had_in_time_is_said_in_one_line_naming_its_holder(
    empty_db_url: str,
) -> None:
    if empty_db_url.startswith("sqlite"):
        fd = _hold_sqlite(empty_db_url)
        holder = f"pid {os.getpid()}"
        try:
            message = await _refused(empty_db_url)
        finally:
            os.close(fd)
    else:
        import asyncpg

        dsn = empty_db_url.replace("postgresql+asyncpg://", "postgresql://")
        other = await asyncpg.connect(dsn, server_settings={"application_name": "the holder"})
        await other.execute("SELECT pg_advisory_lock($1)", migration_lock.KEY)
        holder = f"the holder, PostgreSQL backend {other.get_server_pid()}"
        try:
            message = await _refused(empty_db_url)
        finally:
            await other.close()
    assert "\n" not in message and holder in message, message
    assert "within 1 s" in message, message
    await asyncio.to_thread(upgrade, empty_db_url, "head", 5.0)  # free again: it migrates
    assert await versions(empty_db_url) == [head()]


def test_a_failed_migration_lets_go_of_the_lock(empty_db_url: str) -> None:
    with pytest.raises(CommandError):
        in_thread(upgrade, empty_db_url, "0999_no_such_revision")
    in_thread(upgrade, empty_db_url, "head", 5.0)  # would time out if the lock were still held
    assert in_thread(asyncio.run, versions(empty_db_url)) == [head()]


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
def test_an_in_memory_database_migrates_without_a_lock_file(url: str) -> None:
    assert migration_lock.lock_path(url) is None
    in_thread(upgrade, url)
    assert migration_lock.lock_path("sqlite+aiosqlite:///file:x?mode=memory&uri=true") is None
