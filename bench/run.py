"""The benchmark: `python -m bench.run --what sms|queue|digest|memory|workers`.

Everything runs on this machine over loopback, bounded by a request count and a time limit.
Figures print as Markdown rows to paste into bench/RESULTS.md beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import subprocess
import sys
import time

import httpx

from bench.load import HEADER, Load, drive, row, sms_conversation
from bench.servers import Server, drop_database, fresh_database


async def bench_sms(args: argparse.Namespace) -> None:
    """Signed SMS intakes: the bare reference, then helpline serve on PostgreSQL and SQLite."""
    print(f"signed SMS to /twilio/sms, {args.concurrency} parents at a time, whole intakes")
    bare = await Server.bare().start()
    try:
        await drive([bare.url], args.concurrency, 300, 10)  # warm up
        reference = await drive([bare.url], args.concurrency, args.messages, args.seconds)
    finally:
        bare.stop()
    print(HEADER)
    print(row("bare Starlette (reference)", reference, None))
    kinds = ("postgresql", "sqlite") if args.db == "both" else (args.db,)
    for kind in kinds:
        url = await fresh_database(kind)
        server = await Server.helpline(url).start()
        try:
            await drive([server.url], args.concurrency, 300, 10)
            load = await drive([server.url], args.concurrency, args.messages, args.seconds)
            print(row(f"helpline serve, {kind}", load, reference), flush=True)
        finally:
            server.stop()
            await drop_database(url)


async def bench_memory(args: argparse.Namespace) -> None:
    """`--conversations` parents each mid-intake (two texts in): the server's RSS growth."""
    url = await fresh_database("postgresql")
    server = await Server.helpline(url).start()
    try:
        await drive([server.url], 8, 300, 30)
        before = server.rss_kib()
        started = time.perf_counter()
        sem = asyncio.Semaphore(args.concurrency)
        limits = httpx.Limits(max_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as http:
            load = Load()

            async def begin() -> None:
                async with sem:
                    await sms_conversation(http, load, ["hello", "yes"])

            await asyncio.gather(*(begin() for _ in range(args.conversations)))
        after = server.rss_kib()
        print(
            f"| {args.conversations} conversations in progress | RSS {before / 1024:.1f} → "
            f"{after / 1024:.1f} MiB | growth {(after - before) / 1024:.1f} MiB | "
            f"{time.perf_counter() - started:.0f} s, {load.errors} errors |"
        )
    finally:
        server.stop()
        await drop_database(url)


async def bench_workers(args: argparse.Namespace) -> None:
    """One web worker, then two, plus one scheduler, on one PostgreSQL; every 10th parent risky."""
    import asyncpg

    print(HEADER.replace("| throughput ratio | p99 ratio |", "| alerts / risky | doubled |"))
    for count in (1, 2):
        url = await fresh_database("postgresql")
        servers = [await Server.helpline(url).start() for _ in range(count)]
        scheduler = await Server.scheduler(url).start()
        try:
            urls = [s.url for s in servers]
            await drive(urls, args.concurrency, 300, 10)
            load = await drive(urls, args.concurrency, args.messages, args.seconds, risky_every=10)
            await asyncio.sleep(3)  # let the scheduler's dispatcher see the alerts too
            connection = await asyncpg.connect(url)
            try:
                alerts = await connection.fetchval(
                    "SELECT count(*) FROM outbox WHERE kind = 'safeguarding_alert'"
                )
                matches = await connection.fetchval("SELECT count(*) FROM risk_match")
                doubled = await connection.fetchval(
                    "SELECT count(*) FROM (SELECT enquiry_id FROM callback "
                    "GROUP BY enquiry_id HAVING count(*) > 1) d"
                )
            finally:
                await connection.close()
            print(
                row(f"{count} web worker(s) + 1 scheduler", load, None).removesuffix(" |  |")
                + f" {alerts} alerts / {load.risky} risky ({matches} matches) | {doubled} |",
                flush=True,
            )
        finally:
            scheduler.stop()
            for server in servers:
                server.stop()
            await drop_database(url)


def machine() -> str:
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{platform.node()}: {cores} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__)
    parser.add_argument("--what", choices=["sms", "queue", "digest", "memory", "workers"])
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument(
        "--enquiries", type=int, help="enquiries to seed (queue: 1,000,000; digest: 2 × --open)"
    )
    parser.add_argument(
        "--open", type=int, help="open callbacks to seed (queue: 10,000; digest: 100,000)"
    )
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    if args.open is None:
        args.open = 100_000 if args.what == "digest" else 10_000
    if args.enquiries is None:
        args.enquiries = 2 * args.open if args.what == "digest" else 1_000_000
    if args.enquiries < args.open:
        parser.error("--enquiries must be at least --open (each open callback is an enquiry)")
    print(machine())
    if args.what == "queue":
        from bench.queue import bench_queue as runner
    elif args.what == "digest":
        from bench.digest import bench_digest as runner
    else:
        runner = {"sms": bench_sms, "memory": bench_memory, "workers": bench_workers}[args.what]
    asyncio.run(runner(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
