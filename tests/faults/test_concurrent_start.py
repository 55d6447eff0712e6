"""systemd starts every unit of `helpline.target` at once: three `helpline serve --reuse-port`
(each offering to run the scheduler) started together on an empty PostgreSQL database must all
come up and be ready, whichever of them migrates the schema."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx

from tests.faults.serve import ROOT, START_TIMEOUT, HelplineProcess, free_port

WORKERS = 3


async def _ready(worker: HelplineProcess, process: subprocess.Popen[bytes]) -> int:
    """The worker's /readyz status once it answers 200, or fails the test with its log."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    status = 0
    async with httpx.AsyncClient(base_url=worker.url, timeout=2.0) as http:
        while status != 200:
            assert process.poll() is None, f"serve exited: {worker.log.read_text()[-3000:]}"
            assert loop.time() < deadline, f"not ready ({status}): {worker.log.read_text()[-3000:]}"
            try:
                status = (await http.get("/readyz")).status_code
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    return status


async def test_three_workers_started_at_once_on_an_empty_database_all_get_ready(
    empty_postgres: str, tmp_path: Path
) -> None:
    shared = free_port()
    workers = [
        HelplineProcess(empty_postgres, tmp_path, name=f"w{n}", shared_port=shared)
        for n in range(WORKERS)
    ]
    processes = []
    try:
        for worker in workers:  # no waiting between them: the three race to migrate
            command = [sys.executable, "-m", "bot.cli.main", "serve", "--reuse-port"]
            command += ["--host", "127.0.0.1", "--port", str(shared)]
            command += ["--own-port", str(worker.port)]
            with worker.log.open("ab") as log:
                processes.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=worker.env, stdout=log, stderr=subprocess.STDOUT
                    )
                )
        statuses = await asyncio.gather(
            *(_ready(worker, process) for worker, process in zip(workers, processes, strict=True))
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.to_thread(process.wait, 30)
    assert statuses == [200] * WORKERS
    logs = "".join(worker.log.read_text() for worker in workers)
    assert "Traceback" not in logs, logs[-3000:]
