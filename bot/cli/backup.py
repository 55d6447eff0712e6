"""`helpline backup FILE` and `helpline restore FILE`: a consistent copy taken while the service
runs (SQLite's online backup API; pg_dump on PostgreSQL), checked before it is kept, and put back
only into an empty database. The copy is useless without the encryption keys: we say where."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import subprocess  # nosec B404: pg_dump and pg_restore, run with an argument list
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bot.core.errors import HelplineError
from bot.core.keys import key_file
from bot.core.settings import Settings, load_settings

SQLITE_MAGIC, PG_MAGIC = b"SQLite format 3\x00", b"PGDMP"
KEEP = ("alembic_version",)  # a migrated but unused database still counts as empty


def keys_warning(settings: Settings, *, restored: bool = False) -> str:
    if settings.encryption_keys:
        where = (
            "HELPLINE_ENCRYPTION_KEYS and HELPLINE_LOOKUP_KEY (in the deploy layout "
            "/etc/helpline/helpline.env, from the council's secret store)"
        )
    elif restored:
        where = f"the key file {key_file(settings)} (copy the backed-up database's key file there)"
    else:
        where = f"the key file {key_file(settings)}"
    return (
        "warning: the parents' words and numbers in this backup are encrypted; they cannot be "
        f"read without the same keys: {where}. Keep a copy of the keys, apart from the backup."
    )


def sqlite_path(settings: Settings) -> Path:
    path = settings.database_url.split(":///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:":
        raise HelplineError("HELPLINE_DATABASE_URL names no database file to back up")
    return Path(path)


def libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database as pg_dump takes it, the password in the environment (never in `ps`)."""
    url = make_url(settings.database_url).set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def run(command: list[str], env: dict[str, str] | None = None) -> str:
    if shutil.which(command[0]) is None:
        raise HelplineError(f"{command[0]} is not installed (apt install postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # nosec B603
    if done.returncode != 0:
        raise HelplineError(f"{command[0]} failed: {done.stderr.strip()[:500]}")
    return done.stdout


def sqlite_backup(source: Path, target: Path) -> int:
    """Copy in one step under a read snapshot (WAL: writers go on meanwhile); check the copy."""
    if not source.exists():
        raise HelplineError(f"no database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        (check,) = dst.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise HelplineError(f"the copy failed its integrity check: {check}")
        (enquiries,) = dst.execute("SELECT count(*) FROM enquiry").fetchone()
    finally:
        dst.close()
        src.close()
    return int(enquiries)


def backup(args: argparse.Namespace) -> int:
    settings = load_settings()
    target = Path(args.file)
    if target.exists():
        raise HelplineError(f"{target} exists: give the backup a new name")
    if not target.parent.is_dir():
        raise HelplineError(f"no such directory: {target.parent}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if settings.is_sqlite:
            enquiries = sqlite_backup(sqlite_path(settings), partial)
            summary = f"{enquiries} enquiries, integrity checked"
        else:
            dsn, env = libpq(settings)
            run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", dsn], env)
            listing = run(["pg_restore", "--list", str(partial)])
            if " TABLE DATA public enquiry " not in listing:
                raise HelplineError("pg_restore --list does not find the enquiries in the dump")
            tables = listing.count(" TABLE DATA ")
            summary = f"{tables} tables, checked with pg_restore --list"
        partial.rename(target)
    except (OSError, sqlite3.Error) as exc:
        raise HelplineError(f"backup failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    os.chmod(target, 0o600)
    print(f"backup written to {target} ({summary})")
    print(keys_warning(settings))
    return 0


def sqlite_restore(source: Path, target: Path) -> None:
    if target.exists():
        with sqlite3.connect(f"file:{target}?mode=ro", uri=True) as db:
            names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for name in names:
                if name not in KEEP and db.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone():  # nosec B608
                    raise HelplineError(f"{target} is not empty ({name} has rows): restore refused")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


async def postgres_tables_with_rows(dsn: str, env: dict[str, str]) -> list[str]:
    connection = await asyncpg.connect(dsn, password=env.get("PGPASSWORD"), timeout=10)
    try:
        names = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        found = []
        for row in names:
            name = str(row["tablename"])
            if name not in KEEP and await connection.fetchval(f'SELECT 1 FROM "{name}" LIMIT 1'):  # nosec B608
                found.append(name)
        return found
    finally:
        await connection.close()


def restore(args: argparse.Namespace) -> int:
    settings = load_settings()
    source = Path(args.file)
    try:
        with source.open("rb") as handle:
            magic = handle.read(16)
    except OSError as exc:
        raise HelplineError(f"cannot read {source}: {exc.strerror}") from None
    if settings.is_sqlite:
        if not magic.startswith(SQLITE_MAGIC):
            raise HelplineError(
                f"{source} is not a SQLite backup (HELPLINE_DATABASE_URL is SQLite)"
            )
        try:
            sqlite_restore(source, sqlite_path(settings))
        except sqlite3.Error as exc:
            raise HelplineError(f"restore failed: {exc}") from None
    else:
        if not magic.startswith(PG_MAGIC):
            raise HelplineError(f"{source} is not a pg_dump custom-format backup")
        dsn, env = libpq(settings)
        try:
            busy = asyncio.run(postgres_tables_with_rows(dsn, env))
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise HelplineError(f"cannot reach the database: {type(exc).__name__}") from None
        if busy:
            raise HelplineError(f"the database is not empty ({busy[0]} has rows): restore refused")
        run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={dsn}",
                str(source),
            ],
            env,
        )
    print(f"restored {source}; now run `helpline db upgrade` if this release is newer")
    print(keys_warning(settings, restored=True))
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("backup", help="a checked copy of the database, taken while it runs")
    p.add_argument("file", help="where to write it (a new file)")
    p.set_defaults(sync=backup)
    p = commands.add_parser("restore", help="put a backup into an empty database")
    p.add_argument("file", help="a file written by `helpline backup`")
    p.set_defaults(sync=restore)
