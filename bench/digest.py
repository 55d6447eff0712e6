"""`--what digest`: the manager's digest for today with 100,000 open callbacks (by default:
`--open`, of `--enquiries`, default twice as many).

The store is seeded with bulk SQL (bench/seed.py); a fresh subprocess then builds and renders
today's digest as the 08:30 job does, and reports its wall time and peak RSS (ru_maxrss).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time

from bench.seed import migrate, seed, utcnow
from bench.servers import ROOT, drop_database, fresh_database, helpline_env


async def bench_digest(args: argparse.Namespace) -> None:
    url = await fresh_database("postgresql")
    opened, total = args.open, args.enquiries
    try:
        await migrate(url)
        seconds = await seed(url, total, opened, utcnow())
        print(f"seeded {total:,} enquiries, {opened:,} open callbacks: {seconds:.0f} s")
        child = subprocess.run(
            [sys.executable, "-m", "bench.digest", url],
            cwd=ROOT,
            env={**os.environ, **helpline_env(url), "PTB_TIMEDELTA": "true"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if child.returncode:
            print(child.stderr)
            return
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        print("| open callbacks | build + render s | peak RSS MiB | RSS before MiB | body KiB |")
        print("|---|---|---|---|---|")
        print(
            f"| {opened:,} | {figures['seconds']:.2f} | {figures['peak_mib']:.0f} | "
            f"{figures['before_mib']:.0f} | {figures['body_kib']:.0f} |"
        )
        print(f"subject: {figures['subject']}")
    finally:
        await drop_database(url)


async def build_once() -> dict[str, object]:
    """In the child: services as the scheduler builds them, then today's digest."""
    from bot.core.settings import load_settings
    from bot.domain.digest import build_digest, render_digest
    from bot.wiring import build_services

    services = build_services(load_settings())
    try:
        async with services.sessions() as session:  # connect and warm the pool first
            await session.connection()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        message = render_digest(await build_digest(services, utcnow()), services.settings)
        seconds = time.perf_counter() - started
    finally:
        await services.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    body = len(message.text) + len(message.html)
    return {"seconds": seconds, "peak_mib": peak, "before_mib": before,
            "body_kib": body / 1024, "subject": message.subject}  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(asyncio.run(build_once())))
