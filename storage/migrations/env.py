"""Alembic environment: runs migrations on the async engine, batch mode for SQLite.

One process at a time (storage.migration_lock): the lock is taken before Alembic reads the
schema's version, so a process that waited finds it at head and runs nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from storage import migration_lock
from storage.db import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata
WAIT = float(config.attributes.get("lock_wait", migration_lock.WAIT_SECONDS))


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()  # before the lock goes: the next one must see the new version


def run_locked(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        run_with(connection)
        return
    with migration_lock.advisory_lock(connection, WAIT):
        run_with(connection)


async def run_async(url: str) -> None:
    options: dict[str, Any] = {}
    if url.startswith("postgresql"):  # names this process to one that waits for the lock
        options["connect_args"] = {
            "server_settings": {"application_name": migration_lock.holder_line()}
        }
    engine = make_engine(url, **options)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_locked)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    database = config.get_main_option("sqlalchemy.url") or ""
    with migration_lock.file_lock(database, WAIT):  # SQLite; nothing for PostgreSQL
        asyncio.run(run_async(database))
