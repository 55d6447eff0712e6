"""The processes the wrk suite measures: pinned servers, and their CPU use from /proc."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import wrk_bodies
from bench.servers import ENCRYPTION_KEY, LOOKUP_KEY, ROOT, bench_config, drop_database, free_port

BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")


def pinned(core: int) -> list[str]:
    """The prefix that runs a command on `core` only. (Niceness would not help against other
    jobs on this machine: with the kernel's autogroup on, it only orders one session's own.)"""
    return ["taskset", "-c", str(core)]


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def postgres_ticks() -> dict[int, int]:
    """CPU ticks of each postgres process (other databases' work included)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[int(entry.name)] = cpu_ticks(int(entry.name))
            except (OSError, IndexError):
                continue
    return found


def postgres_delta(before: dict[int, int]) -> int:
    """Ticks used since `before` by postgres processes alive now (new backends counted whole)."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in postgres_ticks().items())


def core_busy() -> list[tuple[int, int]]:
    """(busy, total) jiffies per core from /proc/stat."""
    found = []
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            numbers = [int(v) for v in values]
            idle = numbers[3] + numbers[4]
            found.append((sum(numbers) - idle, sum(numbers)))
    return found


class Process:
    """A server on loopback, pinned to `core` with taskset; logs to a temporary file."""

    def __init__(self, command: list[str], env: dict[str, str], core: int, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = Path(tempfile.mktemp(prefix="bench-wrk-", suffix=".log"))
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*pinned(core), *command],
                cwd=ROOT,
                env={**os.environ, "PTB_TIMEDELTA": "true", **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.pid = self.process.pid  # taskset execs the command: the same pid

    def wait_ready(self, path: str = "/healthz", timeout: float = 90) -> Process:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:
                    if response.status < 500:
                        return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def uvicorn(app: str, env: dict[str, str], core: int, access_log: bool = True) -> Process:
    """A reference app under uvicorn, one worker, logging as `helpline serve` does (info)."""
    port = free_port()
    command = [str(BIN / "uvicorn"), app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "info"] if access_log else ["--no-access-log"]
    return Process(command, env, core, port)


def helpline_env(database_url: str, telegram_api: str) -> dict[str, str]:
    return {
        "HELPLINE_DATABASE_URL": database_url,
        "HELPLINE_CONFIG": str(bench_config()),
        "HELPLINE_SECRET_KEY": "bench-wrk-secret-key-0123456789abcdef",
        "HELPLINE_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "HELPLINE_LOOKUP_KEY": LOOKUP_KEY,
        "HELPLINE_PUBLIC_URL": wrk_bodies.PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": wrk_bodies.ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": wrk_bodies.AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": wrk_bodies.SERVICE_NUMBER,
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # nothing listens: nothing leaves
        "TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": wrk_bodies.TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": telegram_api,
    }


FAKE_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"  # tests/fakes/telegram_api.py


def helpline(env: dict[str, str], core: int, launcher: list[str] | None = None) -> Process:
    port = free_port()
    command = launcher or [str(BIN / "helpline")]
    command = [*command, "serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)]
    return Process(command, env, core, port)


def drop(url: str) -> None:
    """Drop a PostgreSQL database, or remove a SQLite file's temporary directory."""
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        if folder.name.startswith("bench-"):
            shutil.rmtree(folder, ignore_errors=True)
        return
    asyncio.run(drop_database(url))


def async_url(url: str) -> str:
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)
