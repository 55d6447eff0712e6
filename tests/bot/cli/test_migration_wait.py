"""Another process migrating for too long: `db upgrade` and `serve` say so in one line, naming
it, and stop (exit 2) instead of waiting forever or printing a traceback."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import main
from storage import migration_lock
from tests.faults.serve import free_port


@pytest.fixture
def locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A SQLite database whose migration lock another process (this test) holds."""
    config = tmp_path / "helpline.toml"
    config.write_text(
        'languages = ["en"]\nchildren_services_phone = "0161 496 0000"\n'
        'out_of_hours_phone = "0161 496 0001"\nservice_phone = "0161 496 0002"\n'
    )
    database = tmp_path / "helpline.db"
    monkeypatch.setenv("HELPLINE_CONFIG", str(config))
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setattr(migration_lock, "WAIT_SECONDS", 0.5)
    fd = os.open(f"{database}.migrate.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"helpline migrate pid 4242 on web1")
    yield database
    os.close(fd)


@pytest.mark.parametrize("argv", [["db", "upgrade"], ["serve", "--no-scheduler", "--port"]])
def test_a_migration_lock_held_too_long_is_said_in_one_line(
    locked: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    if argv[-1] == "--port":
        argv = [*argv, str(free_port())]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        "helpline: another process is migrating the schema (helpline migrate pid 4242 on web1, "
        f"see {locked}.migrate.lock) and did not finish within 0.5 s: wait for it, or stop it, "
        "then start again\n"
    )
