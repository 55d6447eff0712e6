"""The real `helpline serve` in a subprocess, parents who retry until acknowledged, and the
invariants checked straight from the store afterwards.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bot.channels.webchat_guard import chat_address
from storage.crypto import lookup_hash
from storage.db import make_engine, make_sessionmaker
from storage.models import Callback, Contact, Enquiry, InboxMessage, OutboxMessage, TranscriptLine
from tests.parent import ANSWERS

ROOT = Path(__file__).resolve().parents[2]
RISKY = "he hits my son and I am scared he will kill him"
START_TIMEOUT = 180.0  # seconds: a shared CI machine under load can take a minute to import


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HelplineProcess:
    """`helpline serve` (one uvicorn worker, no scheduler) on loopback, killable by SIGKILL.
    With `shared_port`, one of several workers on that port (--reuse-port); its own port (`url`)
    then reaches this process alone, for its /healthz while it restarts."""

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        *,
        env: dict[str, str] | None = None,
        config: str = "",
        name: str = "serve",
        shared_port: int | None = None,
        options: tuple[str, ...] = (),
    ) -> None:
        self.options = options  # more `serve` options (--no-sender)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.shared_port = shared_port
        toml = workdir / f"{name}.toml"
        # Ofcom's drama range: real-looking numbers, so `serve` starts (it refuses the examples).
        toml.write_text(
            'languages = ["en"]\n'
            'children_services_phone = "0161 496 0000"\n'
            'out_of_hours_phone = "0161 496 0001"\n' + config,
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            "HELPLINE_DATABASE_URL": database_url,
            "HELPLINE_CONFIG": str(toml),
            "PTB_TIMEDELTA": "true",
            "HELPLINE_SECRET_KEY": "fault-tests-" + uuid.uuid4().hex,
            **(env or {}),
        }
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    async def start(self) -> None:
        command = [sys.executable, "-m", "bot.cli.main", "serve", "--no-scheduler"]
        command += ["--host", "127.0.0.1", "--port", str(self.shared_port or self.port)]
        if self.shared_port:
            command += ["--reuse-port", "--own-port", str(self.port)]
        command += self.options
        with self.log.open("ab") as log:
            self.process = await asyncio.to_thread(
                subprocess.Popen,
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"helpline serve exited: {self.log.read_text()[-2000:]}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("helpline serve did not start")
                await asyncio.sleep(0.05)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 10)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait, 5)


class SchedulerProcess(HelplineProcess):
    """`helpline scheduler` on the same database: the jobs, and the outbox sender of workers
    started with --no-sender. No HTTP port: up once it says it stands by for the lock."""

    async def start(self) -> None:
        command = [sys.executable, "-m", "bot.cli.main", "scheduler"]
        with self.log.open("ab") as log:
            self.process = await asyncio.to_thread(
                subprocess.Popen, command, cwd=ROOT, env=self.env, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.starts += 1
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while "standing by for the leader lock" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise RuntimeError(f"helpline scheduler exited: {self.log.read_text()[-2000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("helpline scheduler did not start")
            await asyncio.sleep(0.05)


@dataclass
class ChatParent:
    """One web-chat parent: each message keeps its id until the server acknowledges it (200)."""

    url: str
    risky: bool = False
    token: str = ""  # the chat token the server signs on the first page load
    acknowledged: list[str] = field(default_factory=list)
    refused: int = 0  # answers that were not 2xx (503 while the store is away)
    last_replies: list[dict[str, object]] = field(default_factory=list)

    def script(self) -> list[str]:
        answers = list(ANSWERS)
        if self.risky:
            answers[6] = RISKY
        return ["", *answers, "1"]

    async def run(self, progress: asyncio.Event | None = None, give_up: float = 120.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + give_up
        async with httpx.AsyncClient(base_url=self.url, timeout=10.0) as http:
            await http.get("/chat")  # the server signs the chat cookie
            self.token = http.cookies["helpline_chat"].rsplit(".", 1)[0]
            for number, text in enumerate(self.script()):
                message_id = f"m{number}"
                while True:
                    if loop.time() > deadline:
                        raise TimeoutError("message never acknowledged")
                    try:
                        response = await http.post(
                            "/chat/messages", json={"id": message_id, "text": text}
                        )
                    except httpx.HTTPError:
                        await asyncio.sleep(0.05)
                        continue
                    if response.status_code == 200:
                        self.last_replies = response.json()["replies"]
                        self.acknowledged.append(text)
                        if progress is not None:
                            progress.set()
                        break
                    assert response.status_code == 503, (response.status_code, response.text)
                    assert response.headers.get("retry-after")
                    self.refused += 1
                    await asyncio.sleep(0.1)


async def check_invariants(database_url: str, parents: list[ChatParent]) -> None:
    """Every acknowledged message processed exactly once; one enquiry each; no alert doubled."""
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            inbox_rows = list(await session.scalars(select(InboxMessage)))
            assert all(row.processed_at is not None for row in inbox_rows)
            for parent in parents:
                address = chat_address(parent.token)  # the store keeps a keyed hash of it
                ids = [r.provider_id for r in inbox_rows if r.address == address]
                assert sorted(ids) == sorted(f"{address[:32]}:m{n}" for n in range(15))
                contact = await session.scalar(
                    select(Contact).where(
                        Contact.channel == "webchat",
                        Contact.address_hash == lookup_hash(address),
                    )
                )
                assert contact is not None
                said = list(
                    await session.scalars(
                        select(TranscriptLine.text)
                        .where(
                            TranscriptLine.contact_id == contact.id,
                            TranscriptLine.direction == "in",
                        )
                        .order_by(TranscriptLine.id)
                    )
                )
                assert said == [t for t in parent.acknowledged if t], "no line lost or doubled"
                enquiries = list(
                    await session.scalars(select(Enquiry).where(Enquiry.contact_id == contact.id))
                )
                assert len(enquiries) == 1
                callbacks = await session.scalar(
                    select(func.count())
                    .select_from(Callback)
                    .where(Callback.enquiry_id == enquiries[0].id)
                )
                assert callbacks == 1
                assert enquiries[0].reference in str(parent.last_replies)
                assert enquiries[0].urgent == parent.risky
            alerts = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == "safeguarding_alert")
            )
            assert alerts == sum(p.risky for p in parents), "each alert exactly once"
    finally:
        await engine.dispose()
