"""Start what is measured: a fresh database, the real `helpline serve`, the bare reference."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.load import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SERVICE_NUMBER

# The fixed test keys of tests/conftest.py: bench data is synthetic, never real records.
ENCRYPTION_KEY = "pP0Dq3x0vGmz6yVb5QyS5hZqk3n6cT2mJq8cL7u4Z1E="
LOOKUP_KEY = "test-lookup-key"
ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def fresh_database(kind: str) -> str:
    """A new empty PostgreSQL database, or a new SQLite file; the server migrates it."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/helpline.db"
    import asyncpg

    name = f"helpline_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(POSTGRES)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


async def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    import asyncpg

    connection = await asyncpg.connect(POSTGRES)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await connection.close()


def bench_config() -> Path:
    """A helpline.toml in English with Ofcom's drama-range numbers: real-looking, so `serve`
    starts (it refuses the shipped examples), ringing nobody."""
    config = Path(tempfile.mkdtemp(prefix="bench-")) / "helpline.toml"
    config.write_text(
        'languages = ["en"]\n'
        'children_services_phone = "0161 496 0000"\n'
        'out_of_hours_phone = "0161 496 0001"\n',
        encoding="utf-8",
    )
    return config


def helpline_env(database_url: str) -> dict[str, str]:
    """What `helpline serve` needs: the store, its keys, signed Twilio webhooks, a secret."""
    return {
        "HELPLINE_DATABASE_URL": database_url,
        "HELPLINE_CONFIG": str(bench_config()),
        "HELPLINE_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "HELPLINE_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "HELPLINE_LOOKUP_KEY": LOOKUP_KEY,
        "HELPLINE_PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": SERVICE_NUMBER,
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # loopback only: nothing leaves the machine
    }


class Server:
    """A subprocess on loopback: `helpline serve` or uvicorn on bench.bare (one worker each)."""

    def __init__(self, command: list[str], port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.command = command
        self.env = {**os.environ, "PTB_TIMEDELTA": "true", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def helpline(cls, database_url: str) -> Server:
        """`helpline serve` (one uvicorn worker), Twilio on, the fixed bench keys."""
        port = free_port()
        command = [sys.executable, "-m", "bot.cli.main", "serve", "--no-scheduler"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        return cls(command, port, helpline_env(database_url))

    @classmethod
    def scheduler(cls, database_url: str) -> Server:
        """`helpline scheduler`: the sweep, queues and digest alone (no HTTP port)."""
        command = [sys.executable, "-m", "bot.cli.main", "scheduler"]
        return cls(command, 0, helpline_env(database_url))

    @classmethod
    def bare(cls) -> Server:
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "bench.bare:app", "--no-access-log"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        return cls(command, port)

    async def start(self) -> Server:
        log = open(tempfile.mktemp(prefix="bench-serve-", suffix=".log"), "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        if not self.port:
            await asyncio.sleep(2)
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command} exited with {self.process.returncode}")
            return self
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return self
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.command} did not start")

    def rss_kib(self) -> int:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
