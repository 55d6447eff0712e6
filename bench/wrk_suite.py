"""Issue 19's measurement: `python -m bench.wrk_suite` (or `sh bench/run_wrk.sh`).

wrk (compiled, one core) drives, in one run: the bare reference, the minimal durable webhook and
`helpline serve` (SMS first message, Telegram update, mid-intake step), on SQLite and PostgreSQL.
The server is pinned to one core and wrk, the fake Telegram API and the preparation client to the
other; the server's CPU use during each run (from /proc) shows whether it, not the client, is the
limit. Every request carries a unique provider id (MessageSid, update_id) and a new sender, except
mid-intake steps, which come from parents prepared to be part way through the intake.
Writes a Markdown table (default bench/results/wrk-latest.md) and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import wrk_bodies
from bench.load import SMS_SCRIPT
from bench.servers import ROOT, fresh_database
from bench.wrk_procs import (
    TICKS,
    Process,
    async_url,
    core_busy,
    cpu_ticks,
    drop,
    helpline,
    helpline_env,
    pinned,
    postgres_delta,
    postgres_ticks,
    uvicorn,
)
from bench.wrk_profile import Profiler
from bench.wrk_table import HEADER, Result, machine, row

LUA = ROOT / "bench" / "wrk" / "replay.lua"
# Blocks of sender numbers (+447BBBnnnnnn): one per request set, so no set repeats another's.
WARM, FIRST, MID = 450, 520, 760
MID_DONE = 3  # mid-intake parents have answered this many steps ("hello", consent, who)


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="bench-wrk-bodies-"))
        self.results: list[Result] = []
        self.server_core, self.client_core = 1, 0
        self.profiler = Profiler(args.sql_stats, args.py_spy, self.client_core)

    def bodies(self, name: str, lines: object) -> Path:
        return wrk_bodies.write(self.work / f"{name}.txt", lines)  # type: ignore[arg-type]

    def wrk(
        self,
        url: str,
        bodies: Path,
        seconds: float,
        *,
        threads: int | None = None,
        connections: int | None = None,
        expect: str = "",
        server: Process | None = None,
    ) -> dict[str, float]:
        """One wrk run pinned to the client core; CPU of the server, PostgreSQL and wrk."""
        threads = threads or self.args.threads
        connections = connections or self.args.connections
        command = [*pinned(self.client_core), "wrk", f"-t{threads}"]
        command += [f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s"]
        command += ["-s", str(LUA), url]
        env = {**os.environ, "BENCH_BODIES": str(bodies), "BENCH_THREADS": str(threads)}
        env["BENCH_EXPECT"] = expect
        load = os.getloadavg()[0]
        server_before = cpu_ticks(server.pid) if server else 0
        pg_before, cores_before = postgres_ticks(), core_busy()
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        output = process.stdout.read()
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        if process.returncode:
            raise RuntimeError(f"wrk failed ({process.returncode}): {output}")
        line = next(x for x in output.splitlines() if x.startswith("BENCH_JSON "))
        figures: dict[str, float] = json.loads(line.removeprefix("BENCH_JSON "))
        cores = [
            100 * (b1 - b0) / max(1, t1 - t0)
            for (b0, t0), (b1, t1) in zip(cores_before, core_busy(), strict=True)
        ]
        figures["rate"] = figures["requests"] / (figures["duration_us"] / 1e6)
        figures["wrk_cpu"] = 100 * (usage.ru_utime + usage.ru_stime) / wall
        figures["pg_cpu"] = 100 * postgres_delta(pg_before) / TICKS / wall
        if server:
            figures["server_cpu"] = 100 * (cpu_ticks(server.pid) - server_before) / TICKS / wall
        figures["core_server"] = cores[self.server_core]
        figures["core_client"] = cores[self.client_core]
        figures["load"] = load
        return figures

    def measure(self, name: str, db: str, server: Process, path: str, bodies: Path,
                warm: Path, expect: str, **kwargs: int) -> Result:  # fmt: skip
        url = server.url + path
        busy_before = self.wait_quiet()
        self.wrk(url, warm, self.args.warmup, expect=expect)
        profiled = self.profiler.active and name.startswith("helpline")
        if profiled:
            self.profiler.start(server.pid, self.args.seconds)
        figures = self.wrk(url, bodies, self.args.seconds, expect=expect, server=server, **kwargs)
        if profiled:
            self.profiler.stop(server.pid, f"{name}, {db}", int(figures["requests"]))
        figures["busy_before"] = busy_before
        threads = kwargs.get("threads", self.args.threads)
        config = f"-t{threads} -c{kwargs.get('connections', self.args.connections)}"
        result = Result(name, db, config, figures)
        if figures["wrapped"]:
            result.note = "ids repeated (request file exhausted)"
        if figures["server_cpu"] < 85 and figures["core_server"] > 95:
            result.note += " server below 85% CPU on a busy core: other processes took it"
        self.results.append(result)
        print(row(result), flush=True)
        return result

    def wanted(self, what: str) -> bool:
        return not self.args.only or what in self.args.only

    def wait_quiet(self) -> float:
        """Wait (at most --max-wait s) until the machine's other jobs leave the cores mostly
        idle (busy <= --quiet %, both cores, over one second); returns the busy % last seen."""
        deadline = time.monotonic() + self.args.max_wait
        while True:
            before = core_busy()
            time.sleep(1)
            after = core_busy()
            used = sum(b1 - b0 for (b0, _), (b1, _) in zip(before, after, strict=True))
            total = sum(t1 - t0 for (_, t0), (_, t1) in zip(before, after, strict=True))
            busy = 100 * used / max(1, total)
            if busy <= self.args.quiet or time.monotonic() > deadline:
                return busy

    # ---------------------------------------------------------------- the runs
    def request_files(self) -> None:
        """wrk's request files: warm-up and measured first messages, SMS and Telegram."""
        count = self.args.requests
        self.warm_sms = self.bodies("warm-sms", wrk_bodies.sms_lines(WARM, 5000, "hello"))
        self.first_sms = self.bodies("first-sms", wrk_bodies.sms_lines(FIRST, count, "hello"))
        self.warm_tg = self.bodies("warm-tg", wrk_bodies.telegram_lines(WARM, 5000, "hello"))
        self.first_tg = self.bodies("first-tg", wrk_bodies.telegram_lines(FIRST, count, "hello"))

    def run(self) -> None:
        self.request_files()
        print(HEADER, flush=True)
        if self.wanted("bare") and not self.profiler.active:
            self.bare()
        fake = uvicorn("bench.fake_telegram:app", {}, self.client_core).wait_ready("/")
        try:
            for db in self.args.db:
                if self.wanted("durable") and not self.profiler.active:
                    self.durable(db)
                if self.wanted("work") and not self.profiler.active:
                    self.durable(
                        db, "bench.same_work:app", "durable webhook + a first message's writes"
                    )
                self.helpline_runs(db, fake.url + "/bot")
        finally:
            fake.stop()

    def bare(self) -> None:
        """The bare reference; then more connections and threads, which must not raise it."""
        configs = [(self.args.threads, self.args.connections, True)]
        if not self.args.skip_saturation:
            configs += [(1, 64, True), (2, 64, True), (2, 256, True), (1, 16, False)]
        for threads, connections, access_log in configs:
            name = "bare Starlette" + ("" if access_log else ", no access log")
            server = uvicorn("bench.bare:app", {}, self.server_core, access_log).wait_ready()
            try:
                self.measure(name, "none", server, "/twilio/sms", self.first_sms, self.warm_sms,
                             "<Message>", threads=threads, connections=connections)  # fmt: skip
            finally:
                server.stop()

    def durable(
        self, db: str, app: str = "bench.durable:app", name: str = "minimal durable webhook"
    ) -> None:
        """A reference webhook on a fresh database: durable.py, or same_work.py (--only work)."""
        url = asyncio.run(fresh_database(db))
        env = {
            "BENCH_DATABASE_URL": async_url(url),
            "HELPLINE_PUBLIC_URL": wrk_bodies.PUBLIC_URL,
            "TWILIO_AUTH_TOKEN": wrk_bodies.AUTH_TOKEN,
        }
        server = uvicorn(app, env, self.server_core).wait_ready()
        try:
            self.measure(name, db, server, "/twilio/sms", self.first_sms,
                         self.warm_sms, "<Message>")  # fmt: skip
        finally:
            server.stop()
            drop(url)

    def helpline_runs(self, db: str, telegram_api: str) -> None:
        scenarios = [
            ("sms", "helpline: SMS first message", self.sms_first),
            ("telegram", "helpline: Telegram update", self.telegram),
            ("mid", "helpline: SMS mid-intake step", self.mid_intake),
        ]
        for key, name, scenario in scenarios:
            if not self.wanted(key):
                continue
            url = asyncio.run(fresh_database(db))
            env = {**helpline_env(url, telegram_api), **self.profiler.env()}
            server = helpline(env, self.server_core, self.profiler.launcher()).wait_ready()
            try:
                scenario(name, db, server)
            finally:
                server.stop()
                drop(url)

    def sms_first(self, name: str, db: str, server: Process) -> None:
        self.measure(name, db, server, "/twilio/sms", self.first_sms, self.warm_sms, "Welcome to")

    def telegram(self, name: str, db: str, server: Process) -> None:
        self.measure(name, db, server, "/telegram/webhook", self.first_tg, self.warm_tg, "")

    def mid_intake(self, name: str, db: str, server: Process) -> None:
        """Parents prepared MID_DONE steps in (round by round), then wrk sends each one's next."""
        first = [r for r in self.results if r.db == db and r.name.endswith("first message")]
        rate = first[-1].figures["rate"] if first else 300
        parents = min(self.args.requests, int(rate * self.args.seconds * 1.5) + 500)
        started = time.monotonic()
        asyncio.run(prepare(server.url, parents, self.args.prepare_concurrency))
        print(f"  prepared {parents} parents {MID_DONE} steps in, "
              f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
        text = SMS_SCRIPT[MID_DONE]
        step = self.bodies(f"mid-{db}", wrk_bodies.sms_lines(MID, parents, text, MID_DONE))
        # The 4th answer picks the topic ("2": EHC needs assessment); the reply asks the stage.
        self.measure(name, db, server, "/twilio/sms", step, self.warm_sms, "Where are things now")


async def prepare(url: str, parents: int, concurrency: int) -> None:
    """Round r: parent n sends SMS_SCRIPT[r], for every n, before round r + 1 starts."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency)
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def send(n: int, step: int) -> None:
            sid = f"SM{MID:03d}{step:03d}{n:08d}" + "0" * 18
            signature, _form, body = wrk_bodies.signed_sms(
                wrk_bodies.sender(MID, n), SMS_SCRIPT[step], sid
            )
            headers = {"content-type": wrk_bodies.FORM, "x-twilio-signature": signature}
            async with semaphore:
                response = await http.post("/twilio/sms", content=body, headers=headers)
            response.raise_for_status()

        for step in range(MID_DONE):
            await asyncio.gather(*(send(n, step) for n in range(parents)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.wrk_suite", description=__doc__)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=40_000, help="unique requests per set")
    parser.add_argument("--prepare-concurrency", type=int, default=16)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["bare", "durable", "work", "sms", "telegram", "mid"],
        default=[],
    )
    parser.add_argument("--skip-saturation", action="store_true")
    parser.add_argument("--sql-stats", action="store_true", help="count statements (slower)")
    parser.add_argument("--py-spy", metavar="PATH", help="sample the server with this py-spy")
    parser.add_argument("--out", type=Path, help="default bench/results/wrk-latest.md")
    parser.add_argument("--quiet", type=float, default=30, help="wait until cores are this idle")
    parser.add_argument("--max-wait", type=float, default=90, help="seconds to wait for --quiet")
    args = parser.parse_args(argv)
    profiling = args.sql_stats or args.py_spy
    name = "wrk-profile-latest.md" if profiling else "wrk-latest.md"
    args.out = args.out or ROOT / "bench" / "results" / name
    if shutil.which("wrk") is None:
        subprocess.run(["sh", str(ROOT / "bench" / "install_wrk.sh")], check=True)
    if (os.cpu_count() or 1) < 2:
        parser.error("needs two cores: one for the server, one for wrk")
    suite = Suite(args)
    header = machine()
    print(header, flush=True)
    try:
        suite.run()
    finally:
        table = "\n".join([HEADER, *(row(r) for r in suite.results)])
        report = suite.profiler.report()
        args.out.write_text(f"{header}\n\n{table}\n\n{report}\n", encoding="utf-8")
        shutil.rmtree(suite.work, ignore_errors=True)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
