"""Profile the helpline SMS path in-process: `python -m bench.profile [--db sqlite] [-n 40]`.

The app runs under cProfile with httpx's ASGI transport (no sockets), on a fresh database,
driven by the same signed whole intakes as the benchmark; prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys

import httpx

from bench.load import SMS_SCRIPT, Load, sms_conversation
from bench.servers import drop_database, fresh_database, helpline_env


async def run(kind: str, conversations: int, concurrency: int, show: bool) -> None:
    url = await fresh_database(kind)
    os.environ.update(helpline_env(url))
    from bot.web.app import create_app

    app = create_app()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                if show:
                    await show_one(http)
                load = Load()
                await sms_conversation(http, load, SMS_SCRIPT)  # warm up
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(conversations // concurrency):
                    await asyncio.gather(
                        *(sms_conversation(http, load, SMS_SCRIPT) for _ in range(concurrency))
                    )
                profile.disable()
        stats = pstats.Stats(profile).sort_stats("cumulative")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        print(f"{len(load.latencies)} messages, {load.errors} errors")
    finally:
        await drop_database(url)


async def show_one(http: httpx.AsyncClient) -> None:
    """Print one whole intake's TwiML answers: the script really completes an enquiry."""
    from bench.load import signed, sms_form

    for text in SMS_SCRIPT:
        body, headers = signed(sms_form("+447700900999", text))
        response = await http.post("/twilio/sms", content=body, headers=headers)
        print(">", text, "\n<", response.status_code, response.text[:300])


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.profile", description=__doc__)
    parser.add_argument("--db", default="postgresql", choices=["postgresql", "sqlite"])
    parser.add_argument("-n", type=int, default=64, help="conversations to profile")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.db, args.n, args.concurrency, args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
