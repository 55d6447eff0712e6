"""Python calls per signed first SMS through each webhook app, in-process:
`python -m bench.app_cost --db sqlite|postgresql [-n 300]`.

wrk's req/s on this shared machine move with whatever else runs; a count of Python calls does
not. Each app (bench/bare.py, bench/durable.py, bench/same_work.py, helpline's own) gets the
same signed "hello" from new numbers through an httpx ASGI client, and cProfile counts the calls
of the whole request: the client's share is the same in every row, so the differences are the
apps'. Calls are not CPU time (C code such as SQLite or Fernet's AES is one call), but they
track it: bench/RESULTS.md §1 sets them beside wrk's CPU per request.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import os
import pstats
import subprocess  # nosec B404: our own module, in a child
import sys
import uuid
from typing import Any

import httpx

from bench import wrk_bodies
from bench.servers import drop_database, fresh_database, helpline_env
from bench.wrk_procs import async_url

APPS = ["bench.bare", "bench.durable", "bench.same_work", "helpline"]


def _app(name: str) -> Any:
    if name != "helpline":
        return importlib.import_module(name).app
    from bot.core.settings import load_settings
    from bot.web.app import create_app

    return create_app(load_settings(), background=[])


async def calls_per_request(name: str, kind: str, count: int) -> float:
    """One app on a fresh database: 200 warm-up requests, then `count` profiled."""
    url = await fresh_database(kind)
    os.environ.update(helpline_env(url))
    os.environ["BENCH_DATABASE_URL"] = async_url(url)
    app = _app(name)
    block = 900 + uuid.uuid4().int % 99
    signed = [
        wrk_bodies.signed_sms(wrk_bodies.sender(block, n), "hello", f"SM{block}{n:08d}")
        for n in range(count + 200)
    ]
    transport = httpx.ASGITransport(app=app)
    profile = cProfile.Profile()
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
        ):
            for n, (signature, _form, body) in enumerate(signed):
                if n == 200:
                    profile.enable()
                headers = {
                    "X-Twilio-Signature": signature,
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                response = await client.post("/twilio/sms", content=body, headers=headers)
                if response.status_code != 200 or "<Message>" not in response.text:
                    raise SystemExit(f"{name}: {response.status_code} {response.text[:200]}")
            profile.disable()
    finally:
        await drop_database(url)
    return pstats.Stats(profile).total_calls / count  # type: ignore[attr-defined, no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--apps", nargs="+", choices=APPS, default=APPS)
    parser.add_argument("--one", choices=APPS, help=argparse.SUPPRESS)  # a child's one app
    args = parser.parse_args()
    if args.one:
        print(asyncio.run(calls_per_request(args.one, args.db, args.n)))
        return
    print(f"| app | calls per request ({args.db}) |\n|---|---|")
    for name in args.apps:  # each in a process of its own: the bench apps bind at import
        command = [sys.executable, "-m", "bench.app_cost", "--one", name, "--db", args.db]
        done = subprocess.run([*command, "-n", str(args.n)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
        print(f"| {name} | {float(done.stdout.split()[-1]):,.0f} |", flush=True)


if __name__ == "__main__":
    main()
