"""Before a command touches the store: refuse a missing, unreachable or out-of-date database.

Only `helpline db upgrade` (and `serve` and `chat`, which run it) may create or migrate the
schema. Any other command on a wrong URL would otherwise create an empty SQLite file and a
new key file beside it, then fail deep inside a query; here it stops with one readable line.
"""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.core.errors import HelplineError
from bot.core.settings import Settings
from storage.db import alembic_config, make_engine

UPGRADE = "run `helpline db upgrade`"


def where(settings: Settings) -> str:
    """The database named for a person: the SQLite file, or PostgreSQL's host and name.

    Never the password: this line goes to the terminal and to logs.
    """
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        return "HELPLINE_DATABASE_URL"
    if settings.is_sqlite:
        return url.database or "an in-memory database"
    return f"{url.database or '?'} on {url.host or 'localhost'}:{url.port or 5432}"


def sqlite_file(settings: Settings) -> Path | None:
    if not settings.is_sqlite:
        return None
    name = make_url(settings.database_url).database
    return Path(name) if name and name != ":memory:" else None


def _reason(exc: BaseException) -> str:
    """The driver's own first line (no parameters: the query is alembic's, not a parent's)."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(cause).strip().splitlines()
    return text[0][:200] if text else type(cause).__name__


def schema_revision(connection: Connection) -> str | None:
    """The Alembic revision the schema is at; None for a database with no helpline tables."""
    return MigrationContext.configure(connection).get_current_revision()


async def revision_now(settings: Settings) -> str | None:
    """`schema_revision` of the configured database; None where there is none yet (a SQLite
    file that does not exist is not created by asking)."""
    path = sqlite_file(settings)
    if path is not None and not path.exists():
        return None
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(schema_revision)
    finally:
        await engine.dispose()


async def require_schema(settings: Settings) -> None:
    """Raise a HelplineError saying what to do unless the schema is at this version's head."""
    path = sqlite_file(settings)
    if path is not None and not path.exists():
        raise HelplineError(
            f"there is no database at {path}: {UPGRADE} to create it, "
            "or set HELPLINE_DATABASE_URL to the database you meant"
        )
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(schema_revision)
    except (OSError, DBAPIError) as exc:
        raise HelplineError(
            f"cannot open the database {where(settings)} ({_reason(exc)}): "
            "check HELPLINE_DATABASE_URL"
        ) from None
    finally:
        await engine.dispose()
    heads = set(ScriptDirectory.from_config(alembic_config(settings.database_url)).get_heads())
    if current is None:
        raise HelplineError(
            f"the database {where(settings)} has no helpline tables: {UPGRADE}, "
            "or set HELPLINE_DATABASE_URL to the database you meant"
        )
    if current not in heads:
        raise HelplineError(
            f"the database {where(settings)} is not at this version's schema ({current}): {UPGRADE}"
        )
