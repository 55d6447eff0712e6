"""/readyz on the real `helpline serve` while PostgreSQL goes away (the proxy in front of it is
cut) and comes back: 200, then 503 naming the database, then 200 again without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bot.jobs.leadership import PostgresLeadership
from tests.faults.proxy import CuttableProxy
from tests.faults.serve import HelplineProcess
from tests.faults.test_postgres_down import proxied  # noqa: F401  (the cuttable proxy fixture)


async def ready(server: HelplineProcess) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
        return await http.get("/readyz")


async def test_readyz_turns_503_when_postgres_is_cut_and_200_after(
    proxied: tuple[str, CuttableProxy],  # noqa: F811
    postgres: str,
    tmp_path: Path,
) -> None:
    through, proxy = proxied
    # A scheduler elsewhere holds the leader lock (straight to the server, not through the proxy).
    leader = PostgresLeadership(postgres)
    assert await leader.acquire()
    server = HelplineProcess(through, tmp_path)
    await server.start()
    try:
        first = await ready(server)
        assert first.status_code == 200, first.text
        await proxy.cut()
        away = await ready(server)
        assert away.status_code == 503
        assert away.json() == {"status": "not ready", "reasons": ["database unavailable"]}
        assert (await ready(server)).status_code == 503
        await proxy.start()
        for _ in range(50):
            back = await ready(server)
            if back.status_code == 200:
                break
            await asyncio.sleep(0.2)
        assert back.status_code == 200, back.text
        await leader.release()
        gone = await ready(server)
        assert gone.status_code == 503
        assert gone.json()["reasons"] == ["no scheduler leads (start `helpline scheduler`)"]
    finally:
        await leader.release()
        await server.stop()
    assert server.starts == 1
    assert "Traceback" not in server.log.read_text()
