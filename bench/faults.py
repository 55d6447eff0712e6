"""The long fault run: `python -m bench.faults --db sqlite|postgresql --kills 200 [--workers 2]
[--shared-port]`.

Rounds of 4 SMS and 4 Telegram parents (tests/faults/messaging.py) run whole intakes while the
first `helpline serve` is SIGKILLed and restarted on the same database (a second worker, if
any, keeps serving); every request is retried unchanged until 200 and every reply compared with
a fault-free run. With --shared-port the workers share one port (`serve --reuse-port`), every
request goes to it, and each kill takes a worker drawn at random; the workers then run
`--no-sender` and a `helpline scheduler` (never killed) sends the outbox, as in production
(`--workers-send`: the older layout, each worker sending and no scheduler).
Prints a Markdown row for bench/RESULTS.md: acknowledged, lost, doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.servers import drop_database, fresh_database
from bot.core.settings import database_url
from storage.db import upgrade
from tests.conftest import TEST_ENCRYPTION_KEY  # noqa: F401  (sets the store's test keys)
from tests.faults.messaging import Fault, run_parents
from tests.faults.verdict import Tally, compare

HEADER = (
    "| database | workers | kills | rounds | requests acknowledged | replies expected "
    "| lost | doubled | retries | minutes |\n|---|---|---|---|---|---|---|---|---|---|"
)


async def _store(kind: str) -> str:
    url = database_url(await fresh_database(kind))
    await asyncio.to_thread(upgrade, url)
    return url


async def main(args: argparse.Namespace) -> None:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    reference_url = await _store("sqlite")
    (workdir / "reference").mkdir()
    reference = await run_parents(reference_url, workdir / "reference")
    total, kills, rounds = Tally(), 0, 0
    victims: dict[int, int] = {}
    while kills < args.kills:
        url = await _store(args.db)
        try:
            fault = Fault(min(args.per_round, args.kills - kills), seed=args.seed + rounds)
            fault.interval = (args.min_gap, args.max_gap)
            fault.any_worker = args.shared_port
            round_dir = workdir / f"round{rounds}"
            round_dir.mkdir()
            seen = await run_parents(
                url,
                round_dir,
                reference=reference,
                fault=fault,
                workers=args.workers,
                give_up=600,
                shared_port=args.shared_port,
                sender=args.shared_port and not args.workers_send,
            )
        finally:
            await drop_database(url)
        tally = compare(reference, seen)
        kills += fault.done
        rounds += 1
        for name in ("acknowledged", "replies", "lost", "doubled", "retries"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        total.problems += tally.problems
        for n, times in fault.victims.items():
            victims[n] = victims.get(n, 0) + times
        print(
            f"round {rounds}: {fault.done} kills, lost {tally.lost}, doubled {tally.doubled}",
            flush=True,
        )
    minutes = (time.monotonic() - started) / 60
    print("kills by worker:", ", ".join(f"{n + 1}: {t}" for n, t in sorted(victims.items())))
    workers = f"{args.workers}{' (one port, any killed)' if args.shared_port else ''}"
    if args.shared_port:
        workers += ", workers send" if args.workers_send else ", --no-sender + scheduler sends"
    print(HEADER)
    print(
        f"| {args.db} | {workers} | {kills} | {rounds} | {total.acknowledged} "
        f"| {total.replies} | {total.lost} | {total.doubled} | {total.retries} | {minutes:.0f} |"
    )
    for problem in total.problems:
        print("-", problem)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--per-round", type=int, default=10, help="kills per round of parents")
    parser.add_argument("--workers", type=int, default=1, help="2: the second is never killed")
    parser.add_argument(
        "--shared-port", action="store_true", help="workers on one port; any may be killed"
    )
    parser.add_argument(
        "--workers-send",
        action="store_true",
        help="with --shared-port: every worker sends the outbox (no --no-sender, no scheduler)",
    )
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--min-gap", type=float, default=0.5, help="seconds, after /healthz")
    parser.add_argument("--max-gap", type=float, default=2.5)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
