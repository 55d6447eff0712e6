"""`helpline backup` while parents are writing, then `helpline restore` into an empty database:
every enquiry confirmed before the backup began comes back, each with its callback, readable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli.main import main
from bot.core.services import Services
from storage.db import make_engine, make_sessionmaker
from storage.models import Callback, Enquiry
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.parent import CONFIRM, STEP_ANSWERS, Parent


@pytest.fixture
async def empty_database(db_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A second, empty database of the same kind to restore into."""
    if db_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        return
    url = await _create_postgres_database()
    yield url
    await _drop_postgres_database(url)


async def references(url: str, *, whole: bool = True) -> dict[str, str]:
    """Each enquiry's reference and (decrypted) description; `whole`: each has its callback."""
    engine = make_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with make_sessionmaker(engine)() as session:
            enquiries = list(await session.scalars(select(Enquiry)))
            callbacks = await session.scalar(select(func.count()).select_from(Callback))
    finally:
        await engine.dispose()
    assert callbacks == len(enquiries) or not whole
    return {e.reference: e.description for e in enquiries}


async def test_a_backup_under_load_restores_every_enquiry(
    services: Services,
    db_url: str,
    empty_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", db_url)
    for n in range(3):
        await Parent(services).complete(description=f"before the backup {n}")
    stop = asyncio.Event()
    said = 0

    async def a_parent_keeps_writing(n: int) -> None:
        nonlocal said
        while not stop.is_set():
            parent = Parent(services)
            answers = {**STEP_ANSWERS, "description": f"during the backup {n}"}
            for text in ["hello", *answers.values(), CONFIRM]:
                await parent.say(text)  # each message its own committed transaction
                said += 1

    writers = [asyncio.create_task(a_parent_keeps_writing(n)) for n in range(3)]
    while said < 20:  # the load is running before the backup starts
        await asyncio.sleep(0.01)
    before = await references(db_url, whole=False)  # committed before the backup starts
    said_at_start = said
    backup = tmp_path / "helpline.backup"
    code = await asyncio.to_thread(main, ["backup", str(backup)])
    said_during = said - said_at_start
    stop.set()
    await asyncio.gather(*writers)
    if not db_url.startswith("sqlite"):  # pg_dump takes long enough to meet many commits
        assert said_during > 0
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"backup written to {backup}" in out
    assert "HELPLINE_ENCRYPTION_KEYS" in out  # where the keys are, to keep with it

    monkeypatch.setenv("HELPLINE_DATABASE_URL", empty_database)
    assert await asyncio.to_thread(main, ["restore", str(backup)]) == 0
    restored = await references(empty_database)
    assert before.items() <= restored.items()  # every enquiry, its words readable
    assert len(restored) <= len(await references(db_url))

    assert await asyncio.to_thread(main, ["restore", str(backup)]) == 2  # not empty now
    assert "is not empty" in capsys.readouterr().err


def test_bad_files_get_a_readable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    assert main(["restore", str(tmp_path / "missing")]) == 2
    assert "cannot read" in capsys.readouterr().err
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup")
    assert main(["restore", str(text_file)]) == 2
    assert "is not a SQLite backup" in capsys.readouterr().err
    assert main(["backup", str(text_file)]) == 2
    assert "exists: give the backup a new name" in capsys.readouterr().err
    assert main(["backup", str(tmp_path / "b")]) == 2
    assert "no database at" in capsys.readouterr().err
