"""Issue 19's scale-out: `python -m bench.wrk_scale [--workers 1 2 4] [--cores one both]
[--sender scheduler|workers]`.

N `helpline serve --no-scheduler --no-sender --reuse-port` workers on one port, plus one
`helpline scheduler` that sends the outbox (woken by NOTIFY), on PostgreSQL (`--sender
workers`: the older layout, every worker sending), under the wrk suite's load
(bench/wrk_suite.py: the same request files, `-t1 -c16`, warm-up, 10 s measured, reply text
checked), beside the minimal durable webhook in the same run. The 2-core split, stated per row:
- `one`: every server process (workers, scheduler; the durable webhook) pinned to core 1,
  wrk and the fake Bot API to core 0, PostgreSQL unpinned (as in the suite);
- `both`: the servers free to run on both cores, wrk and the fake Bot API still on core 0.
Server CPU is the sum over the workers and the scheduler. Each worker's own port (--own-port)
gives its /metrics: how the kernel spread the deliveries over the workers. After a Telegram
run, how long the outbox took to drain (every reply accepted by the fake Bot API) is noted.
Writes bench/results/wrk-scale-latest.md and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench import wrk_bodies
from bench.servers import ROOT, free_port, fresh_database
from bench.wrk_procs import (
    BIN,
    TICKS,
    Process,
    async_url,
    cpu_ticks,
    drop,
    helpline_env,
    uvicorn,
)
from bench.wrk_suite import Suite
from bench.wrk_table import HEADER, Result, machine, row

SCENARIOS = ["sms", "telegram"]
METRICS_TOKEN = "bench-scale-metrics-token"
BOTH = ["taskset", "-c", "0-1"]  # inside the suite's `taskset -c 1`: free on both cores
DELIVERED = re.compile(r'^helpline_messages_in_total\{channel="\w+",outcome="new"\} (\S+)$', re.M)


def delivered(url: str) -> int:
    """New deliveries one worker committed (its own counters, on its own port)."""
    request = urllib.request.Request(
        url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # nosec B310: loopback
        text = response.read().decode()
    return sum(int(float(n)) for n in DELIVERED.findall(text))


def outbox_drained(url: str, give_up: float = 60.0) -> str:
    """Wait for the outbox to empty after a run: how long it took, or how much was left."""
    import asyncpg

    async def waiting() -> int:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            query = "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
            return int(await connection.fetchval(query))
        finally:
            await connection.close()

    started = time.monotonic()
    left = asyncio.run(waiting())
    while left and time.monotonic() - started < give_up:
        time.sleep(0.2)
        left = asyncio.run(waiting())
    took = time.monotonic() - started
    if left:
        return f"outbox: {left} rows still waiting {give_up:.0f} s after the run"
    return f"outbox drained {took:.1f} s after the run"


class Layout:
    """N workers on one shared port and one scheduler, on one database."""

    def __init__(
        self, env: dict[str, str], workers: int, core: int, free: bool, no_sender: bool = True
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = ""
        prefix = BOTH if free else []
        self.scheduler = Process([*prefix, str(BIN / "helpline"), "scheduler"], env, core, 0)
        self.workers = []
        for _ in range(workers):
            own = free_port()
            command = [*prefix, str(BIN / "helpline"), "serve", "--no-scheduler", "--reuse-port"]
            command += ["--no-sender"] if no_sender else []
            command += ["--host", "127.0.0.1", "--port", str(self.port), "--own-port", str(own)]
            self.workers.append(Process(command, env, core, own))

    def wait_ready(self) -> Layout:
        for worker in self.workers:
            worker.wait_ready("/healthz", timeout=300)
        self.workers[0].wait_ready("/readyz", timeout=120)  # 200 once the scheduler leads
        return self

    def pids(self) -> list[int]:
        return [self.scheduler.pid, *(w.pid for w in self.workers)]

    def ticks(self) -> int:
        return sum(cpu_ticks(pid) for pid in self.pids())

    def split(self) -> list[int]:
        return [delivered(w.url) for w in self.workers]

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            process.stop()


class ScaleSuite(Suite):
    def group_measure(
        self, name: str, layout: Layout, path: str, bodies: Path, warm: Path, expect: str
    ) -> Result:
        """Like Suite.measure, with the CPU of every process of the layout."""
        url = layout.url + path
        busy_before = self.wait_quiet()
        self.wrk(url, warm, self.args.warmup, expect=expect)
        before, started = layout.ticks(), time.monotonic()
        figures = self.wrk(url, bodies, self.args.seconds, expect=expect)
        wall = time.monotonic() - started
        figures["server_cpu"] = 100 * (layout.ticks() - before) / TICKS / wall
        figures["busy_before"] = busy_before
        config = f"-t{self.args.threads} -c{self.args.connections}"
        result = Result(name, "postgresql", config, figures)
        split = layout.split()
        result.note = f"deliveries per worker (warm-up included): {' / '.join(map(str, split))}"
        if path == "/telegram/webhook":
            result.note += f"; {outbox_drained(layout.database)}"
        if figures["wrapped"]:
            result.note += "; ids repeated (request file exhausted)"
        self.results.append(result)
        print(row(result), flush=True)
        return result

    def run(self) -> None:
        self.request_files()
        print(HEADER, flush=True)
        fake = uvicorn("bench.fake_telegram:app", {}, self.client_core).wait_ready("/")
        try:
            for cores in self.args.cores:
                self.durable_on(cores)
                for workers in self.args.workers:
                    for key in self.args.only:
                        self.scaled(key, workers, cores, fake.url + "/bot")
        finally:
            fake.stop()

    def durable_on(self, cores: str) -> None:
        url = asyncio.run(fresh_database("postgresql"))
        env = {
            "BENCH_DATABASE_URL": async_url(url),
            "HELPLINE_PUBLIC_URL": wrk_bodies.PUBLIC_URL,
            "TWILIO_AUTH_TOKEN": wrk_bodies.AUTH_TOKEN,
        }
        port = free_port()
        command = [*(BOTH if cores == "both" else []), str(BIN / "uvicorn"), "bench.durable:app"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "info"]
        server = Process(command, env, self.server_core, port).wait_ready()
        try:
            name = f"minimal durable webhook, 1 process ({cores} core)"
            self.measure(name, "postgresql", server, "/twilio/sms", self.first_sms,
                         self.warm_sms, "<Message>")  # fmt: skip
        finally:
            server.stop()
            drop(url)

    def scaled(self, key: str, workers: int, cores: str, telegram_api: str) -> None:
        url = asyncio.run(fresh_database("postgresql"))
        subprocess.run([str(BIN / "helpline"), "db", "upgrade"], env=self.env(url, telegram_api),
                       cwd=ROOT, check=True, capture_output=True)  # fmt: skip
        no_sender = self.args.sender == "scheduler"
        layout = Layout(
            self.env(url, telegram_api), workers, self.server_core, cores == "both", no_sender
        )
        layout.database = url
        sends = "scheduler sends" if no_sender else "workers send"
        what = f"{workers} worker{'s' if workers > 1 else ''} + scheduler, {sends} ({cores} core)"
        try:
            layout.wait_ready()
            if key == "sms":
                self.group_measure(f"helpline: SMS first message, {what}", layout, "/twilio/sms",
                                   self.first_sms, self.warm_sms, "Welcome to")  # fmt: skip
            else:
                name = f"helpline: Telegram update, {what}"
                self.group_measure(name, layout, "/telegram/webhook", self.first_tg,
                                   self.warm_tg, "")  # fmt: skip
        finally:
            layout.stop()
            drop(url)

    @staticmethod
    def env(url: str, telegram_api: str) -> dict[str, str]:
        return {**os.environ, **helpline_env(url, telegram_api),
                "HELPLINE_METRICS_TOKEN": METRICS_TOKEN}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.wrk_scale", description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--cores", nargs="+", choices=["one", "both"], default=["one", "both"])
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=SCENARIOS)
    parser.add_argument(
        "--sender",
        choices=["scheduler", "workers"],
        default="scheduler",
        help="who sends the outbox: the scheduler (workers --no-sender) or every worker",
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=40_000, help="unique requests per set")
    parser.add_argument("--quiet", type=float, default=30, help="wait until cores are this idle")
    parser.add_argument("--max-wait", type=float, default=90, help="seconds to wait for --quiet")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/wrk-scale-latest.md")
    args = parser.parse_args(argv)
    args.sql_stats, args.py_spy = False, None  # the suite's profiler stays off here
    if shutil.which("wrk") is None:
        subprocess.run(["sh", str(ROOT / "bench" / "install_wrk.sh")], check=True)
    suite = ScaleSuite(args)
    header = machine()
    print(header, flush=True)
    try:
        suite.run()
    finally:
        table = "\n".join([HEADER, *(row(r) for r in suite.results)])
        args.out.write_text(f"{header}\n\n{table}\n", encoding="utf-8")
        shutil.rmtree(suite.work, ignore_errors=True)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
