"""`--what queue`: the officer's queue pages on 1,000,000 enquiries and 10,000 open callbacks.

Signs in through the real login form (CSRF token from the page, as a browser), then walks
first pages and following pages (the "Next page" keyset cursor) across filters, one request
at a time, and prints p50/p95/p99 and EXPLAIN ANALYZE of the queue query for the main views.
"""

from __future__ import annotations

import argparse
import html
import re
import time

import httpx

from bench.load import Load
from bench.seed import PASSWORD, migrate, seed, utcnow
from bench.servers import Server, drop_database, fresh_database

VIEWS = [
    "/staff/queue",
    "/staff/callbacks",
    "/staff/callbacks?status=all",
    "/staff/callbacks?status=closed",
    "/staff/callbacks?officer=none",
    "/staff/callbacks?officer=3",
    "/staff/callbacks?overdue=1",
    "/staff/callbacks?topic=tribunal",
    "/staff/callbacks?language=pl",
    "/staff/callbacks?channel=voice",
    "/staff/callbacks?status=all&topic=bullying",
    "/staff/callbacks?status=all&language=ar&channel=sms",
    "/staff/callbacks?status=closed&officer=5",
    "/staff/callbacks?status=attempted&topic=ehc",
]
NEXT = re.compile(r'href="([^"]*after=[^"]*)">Next page')


def _cookies(response: httpx.Response, jar: dict[str, str]) -> None:
    """Keep cookies by hand: they are Secure (HELPLINE_PUBLIC_URL is https), we are on http."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


async def sign_in(http: httpx.AsyncClient, email: str) -> None:
    """The real login form: the CSRF token from the page's meta tag and cookie, as htmx sends."""
    jar: dict[str, str] = {}
    page = await http.get("/staff/login")
    _cookies(page, jar)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    csrf = token.group(1) if token else ""
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    response = await http.post(
        "/staff/login",
        data={"email": email, "password": PASSWORD},
        headers={"X-CSRFToken": csrf, "HX-Request": "true", "cookie": cookie},
    )
    _cookies(response, jar)
    if response.status_code != 200 or "helpline_staff" not in jar:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    http.headers["cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())


async def walk(http: httpx.AsyncClient, requests: int, pages: int) -> tuple[Load, int]:
    """First page of each view, then up to `pages`-1 next pages, round the views again."""
    load, rows = Load(), 0
    started = time.perf_counter()
    while len(load.latencies) < requests:
        for view in VIEWS:
            url: str | None = view
            for _ in range(pages):
                if url is None or len(load.latencies) >= requests:
                    break
                begun = time.perf_counter()
                response = await http.get(url)
                load.latencies.append(time.perf_counter() - begun)
                if response.status_code != 200:
                    load.errors += 1
                    break
                rows += response.text.count("/staff/enquiries/BN-")
                found = NEXT.search(response.text)
                url = html.unescape(found.group(1)) if found else None
    load.elapsed = time.perf_counter() - started
    return load, rows


async def explain(url: str) -> None:
    """EXPLAIN ANALYZE of the page query the app runs, for the first page of key views."""
    import asyncpg
    from sqlalchemy.dialects.postgresql import asyncpg as pg

    from bot.web.dashboard.queue import Filters, statement

    dialect = pg.dialect()
    connection = await asyncpg.connect(url)
    try:
        for title, filters, mine in [
            ("All callbacks, open (the default)", Filters(), None),
            ("My queue (officer 3)", Filters(), 3),
            ("All callbacks, status=all (1,000,000 rows)", Filters(status="all"), None),
            ("status=all, topic=bullying", Filters(status="all", topic="bullying"), None),
        ]:
            compiled = statement(filters, utcnow(), mine, "").compile(
                dialect=dialect, compile_kwargs={"render_postcompile": True}
            )
            params = compiled.construct_params()
            processors = compiled._bind_processors
            values = [
                processors[n](params[n]) if n in processors else params[n]
                for n in compiled.positiontup or []
            ]
            plan = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + compiled.string, *values)
            print(f"\n#### {title}\n```")
            print("\n".join(r[0] for r in plan))
            print("```")
    finally:
        await connection.close()


async def bench_queue(args: argparse.Namespace) -> None:
    url = await fresh_database("postgresql")
    try:
        await migrate(url)
        seconds = await seed(url, args.enquiries, args.open, utcnow())
        print(f"seeded {args.enquiries:,} enquiries, {args.open:,} open callbacks: {seconds:.0f} s")
        server = await Server.helpline(url).start()
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                await sign_in(http, "officer3@bench.invalid")
                await walk(http, 30, 2)  # warm up
                load, rows = await walk(http, args.requests, 4)
            print("| pages | errors | rows shown | p50 ms | p95 ms | p99 ms | max ms |")
            print("|---|---|---|---|---|---|---|")
            print(
                f"| {len(load.latencies)} | {load.errors} | {rows} | {load.pct(50):.1f} | "
                f"{load.pct(95):.1f} | {load.pct(99):.1f} | {max(load.latencies) * 1000:.1f} |"
            )
        finally:
            server.stop()
        await explain(url)
    finally:
        await drop_database(url)
