"""Several `helpline serve --reuse-port` processes on one port: the kernel spreads the
connections over them (each counts its own deliveries, read on its own port's /metrics), a
taken port is said in one line, and `serve --workers N` starts again a worker that is killed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.fakes.twilio_api import FakeTwilio, signed_post_headers, sms_form
from tests.faults.serve import ROOT, HelplineProcess, free_port

PUBLIC_URL = "https://helpline.example.org"
SERVICE_NUMBER = "+441632960000"
MESSAGES = 40  # each on a new connection: two workers, each gets some but for 2 in 2**40
TOKEN = "shared-port-metrics-token"
TWILIO = FakeTwilio()
ENV = {
    "HELPLINE_PUBLIC_URL": PUBLIC_URL,
    "HELPLINE_METRICS_TOKEN": TOKEN,
    "TWILIO_ACCOUNT_SID": TWILIO.account_sid,
    "TWILIO_AUTH_TOKEN": TWILIO.auth_token,
    "TWILIO_PHONE_NUMBER": SERVICE_NUMBER,
    "TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # nothing is sent out in this test
}


async def _first_messages(url: str, count: int) -> None:
    for n in range(count):
        form = sms_form(f"SM{n:032d}", f"+4477009{n:05d}", SERVICE_NUMBER, "hello")
        headers = signed_post_headers(PUBLIC_URL + "/twilio/sms", form, TWILIO.auth_token)
        async with httpx.AsyncClient(timeout=30) as http:  # a new connection each time
            response = await http.post(url + "/twilio/sms", data=form, headers=headers)
        assert response.status_code == 200, response.text


async def _delivered(process_url: str) -> int:
    """New SMS deliveries this one process committed (its own counters)."""
    async with httpx.AsyncClient(timeout=30) as http:
        scrape = await http.get(
            process_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    found = re.search(
        r'^helpline_messages_in_total\{channel="sms",outcome="new"\} (\S+)$', scrape.text, re.M
    )
    return int(float(found.group(1))) if found else 0


async def test_two_workers_on_one_port_both_take_deliveries(db_url: str, tmp_path: Path) -> None:
    shared = free_port()
    workers = [
        HelplineProcess(db_url, tmp_path, env=ENV, name=f"w{n}", shared_port=shared)
        for n in range(2)
    ]
    try:
        await asyncio.gather(*(worker.start() for worker in workers))
        await _first_messages(f"http://127.0.0.1:{shared}", MESSAGES)
        counts = [await _delivered(worker.url) for worker in workers]
    finally:
        for worker in workers:
            await worker.stop()
    assert sum(counts) == MESSAGES, counts
    assert min(counts) > 0, f"one worker took every connection: {counts}"


def _serve(port: int, *options: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    process = HelplineProcess(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    command = [sys.executable, "-m", "bot.cli.main", "serve", "--port", str(port), *options]
    return subprocess.run(command, cwd=ROOT, env=process.env, capture_output=True, text=True)


def test_a_taken_port_is_said_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        alone = _serve(port, tmp_path=tmp_path)
        shared = _serve(port, "--reuse-port", tmp_path=tmp_path)
    assert alone.returncode == 2 and shared.returncode == 2
    assert alone.stderr == (
        f"helpline: port {port} on 127.0.0.1 is taken: stop the process that has it, choose "
        "another --port, or start every worker with --reuse-port to share it\n"
    )
    assert shared.stderr.startswith(f"helpline: port {port} on 127.0.0.1 is taken by a process")
    assert shared.stderr.count("\n") == 1 and "Traceback" not in alone.stderr + shared.stderr
    assert not (tmp_path / "x.db").exists(), "the port is checked before the database is made"


def _two_free_ports() -> int:
    """A port whose next one is free too (the workers' own ports are P and P + 1)."""
    while True:
        with socket.socket() as one, socket.socket() as two:
            one.bind(("127.0.0.1", 0))
            try:
                two.bind(("127.0.0.1", one.getsockname()[1] + 1))
            except OSError:
                continue
            return int(one.getsockname()[1])


def _children(pid: int) -> list[int]:
    return [int(n) for n in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def _healthy(url: str, seconds: float = 180) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            try:
                if (await http.get(url + "/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert loop.time() < deadline, f"{url} never answered"
            await asyncio.sleep(0.1)


async def test_workers_start_a_killed_worker_again_and_stop_together(tmp_path: Path) -> None:
    own = _two_free_ports()
    process = HelplineProcess(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    command = [sys.executable, "-m", "bot.cli.main", "serve", "--no-scheduler"]
    command += ["--port", str(free_port()), "--workers", "2", "--own-port", str(own)]
    log = (tmp_path / "workers.log").open("wb")
    supervisor = subprocess.Popen(command, cwd=ROOT, env=process.env, stdout=log, stderr=log)
    try:
        await _healthy(f"http://127.0.0.1:{own}")
        await _healthy(f"http://127.0.0.1:{own + 1}")
        first = _children(supervisor.pid)
        assert len(first) == 2
        victim = first[0]
        os.kill(victim, signal.SIGKILL)
        for _ in range(600):
            now = _children(supervisor.pid)
            if len(now) == 2 and victim not in now:
                break
            await asyncio.sleep(0.1)
        assert len(now) == 2 and victim not in now, now
        await _healthy(f"http://127.0.0.1:{own}")
        await _healthy(f"http://127.0.0.1:{own + 1}")
    finally:
        supervisor.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(supervisor.wait, 60)
        log.close()
    text = (tmp_path / "workers.log").read_text()
    assert code == 0, text
    assert "worker 1 exited (-9): starting it again" in text or "worker 2 exited (-9)" in text
    assert "Traceback" not in text
    assert all(not Path(f"/proc/{pid}").exists() for pid in now), "a worker outlived serve"
