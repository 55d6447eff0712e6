"""The production layout in deploy/ works as written: each systemd unit's ExecStart is run as
systemd would (its %i and %% expanded), against a test database on a free port, and the web
worker and the scheduler come up together ready (/readyz: a scheduler leads on PostgreSQL)."""

from __future__ import annotations

import asyncio
import configparser
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.core.settings import ENVIRONMENT
from tests.faults.serve import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
INSTALLED_BIN = "/opt/helpline/.venv/bin/"
OUR_BIN = str(Path(sys.executable).parent) + "/"
CLEAN = (0, -signal.SIGTERM)


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def command(name: str, instance: str = "", shared_port: int | None = None) -> list[str]:
    """ExecStart as systemd runs it, from the installed venv to this checkout's; with
    `shared_port`, the port the web workers share moved to a free one for the test."""
    line = unit(name)["Service"]["ExecStart"].replace("%i", instance).replace("%%", "%")
    assert line.count(INSTALLED_BIN) == 1, line
    argv = shlex.split(line.replace(INSTALLED_BIN, OUR_BIN))
    if shared_port is not None:
        argv[argv.index("--port") + 1] = str(shared_port)
    return argv


def test_every_unit_runs_as_the_service_user_from_the_environment_file() -> None:
    services = sorted(p.name for p in DEPLOY.glob("*.service"))
    assert services == [
        "helpline-backup.service",
        "helpline-migrate.service",
        "helpline-scheduler.service",
        "helpline-web@.service",
    ]
    for name in services:
        section = unit(name)["Service"]
        assert section["User"] == "helpline" and section["EnvironmentFile"] == (
            "/etc/helpline/helpline.env"
        )
        assert section["ProtectSystem"] == "strict"
    web = command("helpline-web@.service", "8081")
    assert "--no-scheduler" in web and "--reuse-port" in web
    assert "--no-sender" in web  # the scheduler sends: a worker killed is never mid-send
    assert web[web.index("--own-port") + 1] == "8081"
    wanted = unit("helpline.target")["Unit"]["Wants"].split()
    ports = sorted(re.findall(r"helpline-web@(\d+)\.service", " ".join(wanted)))
    assert "helpline-scheduler.service" in wanted and len(ports) >= 2
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    # The proxy's one address is the port every worker shares, none of their own.
    assert set(re.findall(r"127\.0\.0\.1:(\d+)", caddy)) == {web[web.index("--port") + 1]}
    assert web[web.index("--port") + 1] not in ports


def test_the_environment_example_names_only_real_settings() -> None:
    lines = (DEPLOY / "helpline.env.example").read_text(encoding="utf-8").splitlines()
    names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert names <= set(ENVIRONMENT) | {"HELPLINE_CONFIG"}
    assert {"HELPLINE_PUBLIC_URL", "HELPLINE_ENCRYPTION_KEYS", "HELPLINE_METRICS_TOKEN"} <= names


def test_the_readme_links_the_deploy_guide() -> None:
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name in (p.name for p in DEPLOY.iterdir()):
        assert name in guide, f"docs/deploy.md does not mention deploy/{name}"


@pytest.fixture
def environment(postgres: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    config = tmp_path / "helpline.toml"
    # What an operator writes in /etc/helpline/helpline.toml: serve refuses the shipped examples.
    config.write_text(
        'languages = ["en"]\n'
        'children_services_phone = "0161 496 0000"\n'
        'out_of_hours_phone = "0161 496 0001"\n'
        'service_phone = "0161 496 0002"\n',
        encoding="utf-8",
    )
    yield {
        **os.environ,
        "HELPLINE_DATABASE_URL": postgres,
        "HELPLINE_CONFIG": str(config),
        "HELPLINE_SECRET_KEY": "deploy-test-secret",
        "HELPLINE_PUBLIC_URL": "https://helpline.example.gov.uk",
        "HELPLINE_METRICS_TOKEN": "deploy-test-token",
        "PTB_TIMEDELTA": "true",
    }


def start(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


async def test_the_units_commands_come_up_as_written(
    environment: dict[str, str], tmp_path: Path
) -> None:
    migrate = subprocess.run(
        command("helpline-migrate.service"), env=environment, cwd=tmp_path, capture_output=True
    )
    assert migrate.returncode == 0, migrate.stderr
    assert b"database is up to date: " in migrate.stdout
    port, own = free_port(), [free_port(), free_port()]  # the shared port; each worker's own
    web_logs, scheduler_log = [tmp_path / f"web{n}.log" for n in own], tmp_path / "scheduler.log"
    webs = [
        start(command("helpline-web@.service", str(n), port), environment, tmp_path, log)
        for n, log in zip(own, web_logs, strict=True)
    ]
    scheduler = start(command("helpline-scheduler.service"), environment, tmp_path, scheduler_log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            for web, log in zip(webs, web_logs, strict=True):  # each worker up on its own port
                await _answers(f"http://127.0.0.1:{own[webs.index(web)]}/healthz", web, log)
            for _ in range(300):
                assert all(web.poll() is None for web in webs)
                assert scheduler.poll() is None, scheduler_log.read_text()
                try:
                    ready = await http.get("/readyz")
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
                    continue
                if ready.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert ready.status_code == 200, ready.text
            assert (await http.get("/healthz")).status_code == 200
            scrape = await http.get(
                "/metrics", headers={"Authorization": "Bearer deploy-test-token"}
            )
            assert "helpline_scheduler_leader 1.0" in scrape.text
    finally:
        # A clean stop, as systemd counts it: exit 0, or the SIGTERM it sent (uvicorn re-raises).
        for web, log in zip(webs, web_logs, strict=True):
            assert stop(web) in CLEAN, log.read_text()
        assert stop(scheduler) in CLEAN, scheduler_log.read_text()
    logs = [log.read_text() for log in web_logs]
    assert all("Application shutdown complete" in text for text in logs)
    assert all(f"Uvicorn running on http://127.0.0.1:{port} " in text for text in logs)
    assert "scheduler: leader" in scheduler_log.read_text()
    assert "Traceback" not in "".join(logs) + scheduler_log.read_text()


async def _answers(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        for _ in range(1800):
            assert process.poll() is None, log.read_text()
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered: {log.read_text()}")


def test_the_backup_unit_writes_a_checked_backup(
    environment: dict[str, str], tmp_path: Path
) -> None:
    argv = command("helpline-backup.service")
    assert argv[:2] == ["/bin/sh", "-c"]
    script = argv[2].replace("/var/backups/helpline/", f"{tmp_path}/")
    done = subprocess.run(["/bin/sh", "-c", script], env=environment, capture_output=True)
    assert done.returncode == 0, done.stderr
    written = list(tmp_path.glob("helpline-*Z.dump"))
    assert len(written) == 1 and written[0].read_bytes().startswith(b"PGDMP")
    assert b"checked with pg_restore --list" in done.stdout
