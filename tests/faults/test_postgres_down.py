"""PostgreSQL goes away under load (a proxy in front of it is cut): the web chat answers 503
with Retry-After, never 500; nothing acknowledged is lost; the service recovers by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.faults.proxy import CuttableProxy
from tests.faults.serve import ChatParent, HelplineProcess, check_invariants


@pytest.fixture
async def proxied(postgres: str) -> AsyncIterator[tuple[str, CuttableProxy]]:
    """The test database (emptied), reached through a cuttable proxy on loopback."""
    url = make_url(postgres)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield through, proxy
    await proxy.cut()


async def test_database_away_means_503_then_recovery_with_nothing_lost(
    proxied: tuple[str, CuttableProxy], postgres: str, tmp_path: Path
) -> None:
    through, proxy = proxied
    server = HelplineProcess(through, tmp_path)
    await server.start()
    parents = [ChatParent(server.url, risky=(n == 0)) for n in range(4)]
    progress = asyncio.Event()
    try:
        stream = asyncio.gather(*(p.run(progress) for p in parents))
        for cut_after in (8, 30):
            while sum(len(p.acknowledged) for p in parents) < cut_after:
                progress.clear()
                await asyncio.wait_for(progress.wait(), 60)
            await proxy.cut()
            # While it is away: every request is refused with 503, none acknowledged.
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                await http.get("/chat")  # a signed chat cookie (the page needs no store)
                health = await http.get("/healthz")
                probe = await http.post("/chat/messages", json={"id": "probe", "text": "hello"})
            assert health.status_code == 503
            assert probe.status_code == 503 and probe.headers["retry-after"]
            await asyncio.sleep(1.0)
            await proxy.start()
        await asyncio.wait_for(stream, 120)
    finally:
        await server.stop()
    assert server.starts == 1, "recovered by itself, no restart"
    assert sum(p.refused for p in parents) > 0, "the parents did meet the outage"
    log = server.log.read_text()
    assert " 500 " not in log and "Traceback" not in log
    await check_invariants(postgres, parents)
