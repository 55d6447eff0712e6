"""The benchmark: `python -m bench.run --what sms|queue|digest|memory|workers`.

Everything runs on this machine over loopback, bounded by a request count and a time limit.
Figures print as Markdown rows to paste into bench/RESULTS.md beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import dataclass, field

import httpx

from bench.servers import Server, drop_database, fresh_database

ANSWERS = [
    "yes", "1", "2", "2", "Year 4", "2", "The school says they cannot meet his needs.",
    "07700 900123", "1", "yes", "no", "1", "5", "1",
]  # fmt: skip
SCRIPT = ["hello", *ANSWERS]
RISKY = "he hits my son and I am scared he will kill him"


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def conversation(http: httpx.AsyncClient, load: Load, script: list[str]) -> None:
    """One parent's whole intake by web chat: each message waits for the previous answer."""
    cookies = {"helpline_chat": uuid.uuid4().hex + "bench"}
    for number, text in enumerate(script):
        started = time.perf_counter()
        response = await http.post(
            "/chat/messages",
            json={"id": f"m{number}", "text": text},
            headers={"cookie": f"helpline_chat={cookies['helpline_chat']}"},
        )
        load.latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            load.errors += 1


async def drive(
    urls: list[str], concurrency: int, messages: int, seconds: float, risky_every: int = 0
) -> Load:
    """`concurrency` parents at a time, new ones as others finish, until either bound."""
    load = Load()
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in urls]
    counter = 0

    async def worker(index: int) -> None:
        nonlocal counter
        while len(load.latencies) < messages and time.perf_counter() < deadline:
            counter += 1
            script = list(SCRIPT)
            if risky_every and counter % risky_every == 0:
                script[7] = RISKY
            await conversation(clients[counter % len(clients)], load, script)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    load.elapsed = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return load


def row(name: str, load: Load, bare: Load | None) -> str:
    ratio = ""
    if bare is not None:
        ratio = f"{load.rate / bare.rate:.2f} | {load.pct(99) / bare.pct(99):.1f}x"
    return (
        f"| {name} | {len(load.latencies)} | {load.errors} | {load.rate:.0f} | "
        f"{load.pct(50):.1f} | {load.pct(95):.1f} | {load.pct(99):.1f} | {ratio} |"
    )


HEADER = (
    "| endpoint | messages | errors | msg/s | p50 ms | p95 ms | p99 ms | "
    "throughput ratio | p99 ratio |\n|---|---|---|---|---|---|---|---|---|"
)


async def bench_sms(args: argparse.Namespace) -> None:
    print("driving: web chat (POST /chat/messages); /twilio/sms is not in main yet")
    bare = await Server.bare().start()
    try:
        await drive([bare.url], args.concurrency, 200, 10)  # warm up
        reference = await drive([bare.url], args.concurrency, args.messages, args.seconds)
    finally:
        bare.stop()
    print(HEADER)
    print(row("bare Starlette (reference)", reference, None))
    for kind in ("postgresql", "sqlite"):
        url = await fresh_database(kind)
        server = await Server.helpline(url).start()
        try:
            await drive([server.url], args.concurrency, 150, 10)
            load = await drive([server.url], args.concurrency, args.messages, args.seconds)
            print(row(f"helpline serve, {kind}", load, reference))
        finally:
            server.stop()
            await drop_database(url)


async def bench_memory(args: argparse.Namespace) -> None:
    """10,000 parents each mid-intake (two messages in): the server's RSS growth."""
    url = await fresh_database("postgresql")
    server = await Server.helpline(url).start()
    try:
        await drive([server.url], 8, 300, 30)
        before = server.rss_kib()
        started = time.perf_counter()
        sem = asyncio.Semaphore(args.concurrency)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            load = Load()

            async def begin() -> None:
                async with sem:
                    await conversation(http, load, ["hello", "yes"])

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
    """One web worker, then two, on one PostgreSQL; every 10th parent raises an alert."""
    import asyncpg

    print(HEADER)
    for count in (1, 2):
        url = await fresh_database("postgresql")
        servers = [await Server.helpline(url).start() for _ in range(count)]
        try:
            urls = [s.url for s in servers]
            await drive(urls, args.concurrency, 150, 10)
            load = await drive(urls, args.concurrency, args.messages, args.seconds, risky_every=10)
            print(row(f"{count} web worker(s), postgresql", load, None))
            connection = await asyncpg.connect(url)
            try:
                alerts = await connection.fetchval(
                    "SELECT count(*) FROM outbox WHERE kind = 'safeguarding_alert'"
                )
                risky = await connection.fetchval(
                    "SELECT count(*) FROM inbox WHERE payload->>'text' = $1", RISKY
                )
                doubled = await connection.fetchval(
                    "SELECT count(*) FROM (SELECT enquiry_id FROM callback "
                    "GROUP BY enquiry_id HAVING count(*) > 1) d"
                )
            finally:
                await connection.close()
            print(f"  alerts {alerts} for {risky} risky messages; doubled callbacks {doubled}")
        finally:
            for server in servers:
                server.stop()
            await drop_database(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__)
    parser.add_argument("--what", choices=["sms", "queue", "digest", "memory", "workers"])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--conversations", type=int, default=10_000)
    args = parser.parse_args(argv)
    if args.what == "queue":
        print("the officer queue page benchmark (1,000,000 enquiries) is not built yet")
        return 1
    if args.what == "digest":
        print("the manager digest is not in main yet (issue: queue/scheduler); nothing to measure")
        return 1
    runner = {"sms": bench_sms, "memory": bench_memory, "workers": bench_workers}[args.what]
    asyncio.run(runner(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
