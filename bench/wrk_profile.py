"""Where helpline's time goes under the wrk load: statement counters and py-spy samples.

`python -m bench.wrk_suite --sql-stats` runs `helpline serve` under bench/sqlstats.py and reports,
per request of each measured run: statements, transactions, pool checkouts, and the statements
that take the most time. `--py-spy PATH` samples the server with py-spy (installed in a scratch
venv, never in the project's lock) during each measured run and summarises the stacks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.wrk_procs import pinned

# Inclusive shares: a sample counts for every area one of its frames belongs to.
AREAS = {
    "SQLAlchemy (all)": "(sqlalchemy/",
    "SQLAlchemy ORM (session, flush, loading)": "(sqlalchemy/orm/",
    "SQLAlchemy statement compile / cache key": "(sqlalchemy/sql/",
    "asyncpg": "(asyncpg/",
    "aiosqlite / sqlite3 (its threads)": "(aiosqlite/",
    "uvicorn": "(uvicorn/",
    "h11 (HTTP parsing)": "(h11/",
    "logging": "(logging/",
    "Starlette": "(starlette/",
    "twilio (signature, TwiML)": "(twilio/",
    "cryptography (Fernet)": "(cryptography/",
    "python-telegram-bot": "(telegram/",
    "httpx (outbox sends)": "(httpx/",
    "json": "(json/",
    "flows/ (engine, intake, safeguarding)": "(flows/",
    "storage/": "(storage/",
    "bot/channels/segments.py (SMS segments)": "(bot/channels/segments.py",
}


class Profiler:
    def __init__(self, sql_stats: bool, py_spy: str | None, client_core: int) -> None:
        self.sql_stats = sql_stats
        self.py_spy = py_spy
        self.client_core = client_core
        self.path = ""
        self.sections: list[str] = []
        self._before: dict[str, Any] = {}
        self._spy: subprocess.Popen[bytes] | None = None
        self._spy_out = ""

    @property
    def active(self) -> bool:
        return self.sql_stats or bool(self.py_spy)

    def launcher(self) -> list[str] | None:
        return [sys.executable, "-m", "bench.sqlstats"] if self.sql_stats else None

    def env(self) -> dict[str, str]:
        self.path = tempfile.mktemp(prefix="bench-sqlstats-", suffix=".json")
        return {"BENCH_SQLSTATS": self.path} if self.sql_stats else {}

    def snapshot(self, pid: int) -> dict[str, Any]:
        Path(self.path).unlink(missing_ok=True)
        os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not Path(self.path).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("no statement snapshot from the server")
            time.sleep(0.05)
        return json.loads(Path(self.path).read_text())  # type: ignore[no-any-return]

    def start(self, pid: int, seconds: float) -> None:
        if self.sql_stats:
            self._before = self.snapshot(pid)
        if self.py_spy:
            self._spy_out = tempfile.mktemp(prefix="bench-pyspy-", suffix=".txt")
            command = [*pinned(self.client_core), self.py_spy, "record"]
            command += ["--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200"]
            command += ["--nonblocking", "--function", "--format", "raw", "--output", self._spy_out]
            self._spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self, pid: int, title: str, requests: int) -> None:
        if self.sql_stats:
            after = self.snapshot(pid)
            self.sections.append(statement_report(title, self._before, after, requests))
        if self._spy is not None:
            _out, err = self._spy.communicate(timeout=120)
            if self._spy.returncode:
                raise RuntimeError(f"py-spy failed: {err.decode()[-500:]}")
            self._spy = None
            stacks = Path(self._spy_out).read_text().splitlines()
            self.sections.append(spy_report(title, stacks, requests))

    def report(self) -> str:
        return "\n\n".join(self.sections)


def statement_report(title: str, before: dict[str, Any], after: dict[str, Any], n: int) -> str:
    counters = {k: v - before["counters"].get(k, 0) for k, v in after["counters"].items()}
    rows = []
    for key, (count, seconds) in after["statements"].items():
        old_count, old_seconds = before["statements"].get(key, (0, 0.0))
        if count - old_count:
            rows.append((key, count - old_count, seconds - old_seconds))
    total_count = sum(r[1] for r in rows)
    total_time = sum(r[2] for r in rows) or 1.0
    per = {k: counters.get(k, 0) / n for k in ("begin", "commit", "rollback", "checkout")}
    lines = [
        f"#### {title}: {n} requests measured",
        f"statements {total_count / n:.1f} / request; BEGIN {per['begin']:.2f}, "
        f"COMMIT {per['commit']:.2f}, ROLLBACK {per['rollback']:.2f}, pool checkouts "
        f"{per['checkout']:.2f} per request; statement wall time {1000 * total_time / n:.1f} ms"
        " / request (includes waiting for the loop and locks)",
        "",
        "| statement | per request | mean ms | share of statement time |",
        "|---|---|---|---|",
    ]
    for key, count, seconds in sorted(rows, key=lambda r: -r[2])[:12]:
        shown = key.replace("|", "\\|")
        lines.append(
            f"| `{shown}` | {count / n:.2f} | {1000 * seconds / count:.2f} | "
            f"{100 * seconds / total_time:.0f}% |"
        )
    return "\n".join(lines)


def parse(stacks: list[str]) -> list[tuple[list[str], int]]:
    parsed = []
    for line in stacks:
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            parsed.append((frames.split(";"), int(count)))
    return parsed


def spy_report(title: str, stacks: list[str], requests: int) -> str:
    parsed = parse(stacks)
    total = sum(c for _, c in parsed) or 1
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    mine: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    for frames, count in parsed:
        own[frames[-1]] += count
        packages[frames[-1].rpartition(" (")[2].split("/")[0].split(".py")[0]] += count
        for name, needle in AREAS.items():
            if any(needle in frame for frame in frames):
                areas[name] += count
        for frame in set(frames):
            if any(f"({part}" in frame for part in ("bot/", "flows/", "storage/")):
                mine[frame] += count
    lines = [f"#### {title}: {total} samples at 200 Hz ({requests} requests)", ""]
    lines += ["| area (inclusive) | share of samples |", "|---|---|"]
    lines += [f"| {name} | {100 * c / total:.0f}% |" for name, c in areas.most_common()]
    lines += ["", "| package (self time) | share |", "|---|---|"]
    lines += [f"| {name} | {100 * c / total:.0f}% |" for name, c in packages.most_common(12)]
    lines += ["", "| project function (inclusive) | share |", "|---|---|"]
    lines += [f"| `{f}` | {100 * c / total:.0f}% |" for f, c in mine.most_common(15)]
    lines += ["", "| function (self time) | share |", "|---|---|"]
    lines += [f"| `{f}` | {100 * c / total:.1f}% |" for f, c in own.most_common(15)]
    return "\n".join(lines)
