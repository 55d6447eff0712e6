"""What one message costs on the message path, counted rather than timed:
`python -m bench.path_cost --db sqlite|postgresql [--step 0|3] [-n 500]`.

Drives `Router.deliver_message` directly (no HTTP) on a fresh database with signed-SMS-shaped
messages from new numbers (step 0: "hello") or from parents three steps into the intake (step
3: the topic), renders the replies as the SMS channel does, and reports per message: Python
function calls (cProfile's count: repeatable whatever else the machine runs, unlike CPU time),
SQL statements, hand-offs to aiosqlite's thread, and the process CPU time (noisy on a shared
machine). bench/RESULTS.md section 1 lists it per commit.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event

from bench.servers import drop_database, fresh_database, helpline_env
from bench.stages import Stages

SCRIPT = ["hello", "1", "1", "2"]  # hello, consent, who is asking, the topic


async def measure(
    kind: str, step: int, count: int, top: int = 0, stages: bool = False
) -> dict[str, float]:
    url = await fresh_database(kind)
    os.environ.update(helpline_env(url))
    from bot.channels.twilio.sms import render
    from bot.conversation.message import Inbound
    from bot.core.settings import load_settings
    from bot.wiring import build_services
    from flows import safeguarding

    services = build_services(load_settings())
    await services.migrate()
    safeguarding.warm()
    seen = {"statements": 0, "hand-offs": 0}
    event.listen(
        services.engine.sync_engine,
        "before_cursor_execute",
        lambda *_: seen.__setitem__("statements", seen["statements"] + 1),
    )
    handed = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
        seen["hand-offs"] += 1
        return await handed(self, fn, *args, **kw)

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
    limit = asyncio.Semaphore(16)

    async def one(block: str, n: int, at: int) -> None:
        address = f"+4477{block}{n:06d}"
        message = Inbound(
            channel="sms",
            address=address,
            provider_id=f"SM{block}{at}{n:08d}{uuid.uuid4().hex[:8]}",
            text=SCRIPT[at],
            received_at=services.now(),
            known_phone=address,  # as the SMS channel hands it over
        )
        async with limit:
            done = await services.router.deliver_message(message)
        gettext = services.catalogs.gettext(done.language or "en")
        [text for reply in done.replies for text in render(reply, gettext)]

    async def round_of(block: str, at: int) -> None:
        await asyncio.gather(*(one(block, n, at) for n in range(count)))

    try:
        for at in range(step):  # parents brought to the step measured
            for block in ("20", "30") if stages else ("20",):
                await round_of(block, at)
        await round_of("10", 0)  # warm-up
        if stages:  # calls by stage instead (bench/stages.py); a second round of parents
            by_stage = Stages()
            by_stage.enable()
            await round_of("30", step)
            by_stage.disable()
            print(by_stage.table(count))
        seen.update({"statements": 0, "hand-offs": 0})
        profile = cProfile.Profile()
        cpu = time.process_time()
        profile.enable()
        await round_of("20", step)
        profile.disable()
        cpu = time.process_time() - cpu
    finally:
        aiosqlite.Connection._execute = handed  # type: ignore[method-assign]
        await services.close()
        await drop_database(url)
    stats = pstats.Stats(profile)
    if top:  # where the calls go: the functions that make the most of them, with callees
        stats.sort_stats("cumulative").print_stats(top)
        stats.dump_stats(Path(tempfile.gettempdir()) / "path_cost.prof")  # for pstats
    return {
        "calls": stats.total_calls / count,  # type: ignore[attr-defined]
        "statements": seen["statements"] / count,
        "hand-offs": seen["hand-offs"] / count,
        "cpu ms (profiled)": 1000 * cpu / count,
    }


async def overhead(count: int = 200) -> dict[str, float]:
    """What the store's plumbing costs in Python calls on SQLite, with no work in it."""
    from sqlalchemy import select, text

    from bot.core.settings import database_url
    from storage.db import make_engine, make_sessionmaker, upgrade
    from storage.models import Contact

    url = database_url(await fresh_database("sqlite"))
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)

    async def empty() -> None:
        async with sessions.begin():
            pass

    async def checkout() -> None:
        async with sessions.begin() as session:
            await session.connection()

    async def orm_select() -> None:
        async with sessions.begin() as session:
            await session.scalar(select(Contact).where(Contact.address_hash == "x"))

    async def core_select() -> None:
        async with sessions.begin() as session:
            await (await session.connection()).execute(text("SELECT 1"))

    calls: dict[str, float] = {}
    cases = [
        ("empty transaction", empty),
        ("with its connection", checkout),
        ("+ ORM select", orm_select),
        ("+ Core select", core_select),
    ]
    for name, case in cases:
        for _ in range(20):
            await case()
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(count):
            await case()
        profile.disable()
        calls[name] = pstats.Stats(profile).total_calls / count  # type: ignore[attr-defined]
    await engine.dispose()
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--step", type=int, choices=[0, 3], default=0)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--overhead", action="store_true", help="the store's plumbing alone")
    parser.add_argument("--stages", action="store_true", help="also the calls by stage")
    parser.add_argument("--top", type=int, default=0, help="also print the N costliest functions")
    args = parser.parse_args()
    if args.overhead:
        plumbing = asyncio.run(overhead())
        print(", ".join(f"{name}: {value:,.0f} calls" for name, value in plumbing.items()))
        return
    figures = asyncio.run(measure(args.db, args.step, args.n, args.top, args.stages))
    shown = ", ".join(f"{name} {value:,.1f}" for name, value in figures.items())
    print(f"{args.db} step {args.step}: per message {shown}")


if __name__ == "__main__":
    main()
