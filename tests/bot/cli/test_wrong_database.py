"""The CLI on a new, empty or unreachable database: one readable line, and nothing created."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.cli.main import main
from bot.core.settings import database_url
from storage.db import alembic_config, upgrade


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "helpline.toml"
    path.write_text('languages = ["en"]\n')
    monkeypatch.setenv("HELPLINE_CONFIG", str(path))
    monkeypatch.delenv("HELPLINE_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("HELPLINE_LOOKUP_KEY", raising=False)
    return path


@pytest.mark.parametrize(
    "argv", [["queue"], ["staff", "list"], ["report"], ["digest", "--dry-run"]]
)
def test_a_missing_sqlite_file_is_refused_and_not_created(
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    db = tmp_path / "typo.db"
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{db}")
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err.startswith("helpline: there is no database at ")
    assert "run `helpline db upgrade` to create it" in err and "HELPLINE_DATABASE_URL" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out
    assert not db.exists() and not Path(f"{db}.keys").exists()


def test_an_empty_database_is_refused_until_upgraded(
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{db}")
    assert main(["queue"]) == 2
    err = capsys.readouterr().err
    assert "has no helpline tables: run `helpline db upgrade`" in err
    assert not Path(f"{db}.keys").exists()
    assert main(["db", "upgrade"]) == 0
    head = ScriptDirectory.from_config(alembic_config(f"sqlite:///{db}")).get_current_head()
    assert capsys.readouterr().out == f"database created: {db}, schema {head}\n"
    assert main(["db", "upgrade"]) == 0  # a second time: nothing to do, and it says so
    assert capsys.readouterr().out == f"database is up to date: {db}, schema {head}\n"
    assert main(["queue"]) == 0
    assert capsys.readouterr().out.endswith("no open callbacks\n")


def test_an_older_schema_is_said_to_be_upgraded(
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "old.db"
    url = f"sqlite:///{db}"
    monkeypatch.setenv("HELPLINE_DATABASE_URL", url)
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_current_head()
    assert head is not None
    older = script.get_revision(head).down_revision
    upgrade(database_url(url), str(older))
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"database upgraded: {db}, schema {older} -> {head}\n"


def test_an_unreachable_postgresql_is_named_without_its_password(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "HELPLINE_DATABASE_URL", "postgresql://helpline:s3cret-pw@127.0.0.1:1/helpline"
    )
    assert main(["queue"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("helpline: cannot open the database helpline on 127.0.0.1:1")
    assert "check HELPLINE_DATABASE_URL" in err and "s3cret" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_postgresql_database_is_named(
    config: Path,
    postgres: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = postgres.rsplit("/", 1)[0]
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"{base}/no_such_helpline_db")
    assert main(["staff", "list"]) == 2
    err = capsys.readouterr().err
    assert 'database "no_such_helpline_db" does not exist' in err
