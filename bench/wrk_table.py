"""The wrk suite's results: one Markdown row per measured run."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass, field

from bench.servers import ROOT


@dataclass
class Result:
    name: str
    db: str
    config: str
    figures: dict[str, float] = field(default_factory=dict)
    note: str = ""


HEADER = (
    "| endpoint | db | wrk | req/s | p50 ms | p99 ms | errors | server CPU % | server CPU ms / req "
    "| postgres CPU % "
    "| wrk CPU % | core 0 / 1 busy % | load | busy before % | note |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(result: Result) -> str:
    f = result.figures
    errors = int(f["bad"] + f["connect"] + f["read"] + f["write"] + f["timeout"])
    server = f"{f['server_cpu']:.0f} | {10 * f['server_cpu'] / max(f['rate'], 1e-9):.2f}"
    return (
        f"| {result.name} | {result.db} | {result.config} | {f['rate']:,.0f} | "
        f"{f['p50_us'] / 1000:.1f} | {f['p99_us'] / 1000:.1f} | {errors} | {server} | "
        f"{f['pg_cpu']:.0f} | {f['wrk_cpu']:.0f} | {f['core_client']:.0f} / "
        f"{f['core_server']:.0f} | {f['load']:.2f} | {f.get('busy_before', 0):.0f} | "
        f"{result.note} |"
    )


def machine() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{wrk.split(' [')[0]}, commit {commit}, {now}"
    )
