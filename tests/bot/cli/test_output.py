"""What the operator reads: local times and words in `queue`, erase without input, warnings once."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.services import Services
from bot.wiring import build_services
from tests.bot.dashboard.helpers import enquire
from tests.conftest import FakeClock, london, test_settings

CLI = [sys.executable, "-m", "bot.cli.main"]


@pytest.fixture
async def db(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Path]:
    path = tmp_path / "helpline.db"
    shutil.copy(sqlite_template, path)
    config = tmp_path / "helpline.toml"
    config.write_text('languages = ["en"]\n')
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("HELPLINE_CONFIG", str(config))
    yield path


async def _one_enquiry(db: Path, clock: FakeClock) -> str:
    services: Services = build_services(test_settings(f"sqlite+aiosqlite:///{db}"), now=clock)
    try:
        return (await enquire(services)).reference
    finally:
        await services.close()


async def test_queue_prints_local_times_and_topic_words_and_json_as_before(
    db: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    clock.set(london(2026, 7, 6, 10, 0))  # a Monday in summer time (BST)
    reference = await _one_enquiry(db, clock)
    assert await asyncio.to_thread(main, ["queue"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{reference}  due Tue 07 Jul 10:00  telegram")
    assert "EHC needs assessment or plan" in line and "ehc" not in line.split()
    assert await asyncio.to_thread(main, ["queue", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["due_at"] == "2026-07-07T09:00:00+00:00" and row["topic"] == "ehc"


def _run(argv: list[str], db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    return subprocess.run(
        [*CLI, *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


async def test_erase_with_no_standard_input_is_a_readable_refusal(
    db: Path, clock: FakeClock
) -> None:
    reference = await _one_enquiry(db, clock)
    done = _run(["erase", "--reference", reference], db)
    assert done.returncode == 2
    assert "no confirmation on standard input: nothing was erased" in done.stderr
    assert "Traceback" not in done.stderr and "EOFError" not in done.stderr
    assert _run(["queue"], db).stdout.startswith(reference)  # still there


def test_commands_do_not_warn_about_the_local_key_file(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"HELPLINE_ENCRYPTION_KEYS": "", "HELPLINE_LOOKUP_KEY": ""}
    for argv in (["queue"], ["rota", "show"]):
        done = _run(argv, db, **env)
        assert done.returncode == 0, done.stderr
        assert "HELPLINE_ENCRYPTION_KEYS" not in done.stderr + done.stdout


def test_serve_says_once_what_to_fix_before_going_live(db: Path) -> None:
    env = {
        **os.environ,
        "HELPLINE_ENCRYPTION_KEYS": "",
        "HELPLINE_LOOKUP_KEY": "",
        "HELPLINE_EPHEMERAL_SECRET": "1",
    }
    seen = []
    with subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--no-scheduler"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as server:
        assert server.stderr is not None
        # A server that never says it is running fails the test in a minute, never hangs it.
        deadline = threading.Timer(60, server.kill)
        deadline.start()
        for line in server.stderr:
            seen.append(line)
            if "Uvicorn running" in line or "Traceback" in line or "helpline:" in line:
                break
        deadline.cancel()
        server.terminate()
        server.wait(timeout=30)
    said = "".join(seen)
    assert "Uvicorn running" in said, said
    assert said.count("HELPLINE_ENCRYPTION_KEYS is not set") == 1
    assert f"local key file {db}.keys" in said
    assert "warning: HELPLINE_PUBLIC_URL is http://127.0.0.1:8080, not https" in said
    assert "example numbers: children_services_phone, out_of_hours_phone, service_phone" in said
