"""SIGKILL the real `helpline serve` at random points of a stream of web-chat deliveries.

Parents retry whatever was not acknowledged; after the restarts every acknowledged message
has been processed exactly once, and nothing (transcript line, enquiry, alert) is doubled.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from tests.faults.serve import ChatParent, HelplineProcess, check_invariants

KILLS = 3
PARENTS = 5


async def test_sigkill_mid_stream_loses_and_doubles_nothing(db_url: str, tmp_path: Path) -> None:
    server = HelplineProcess(db_url, tmp_path)
    await server.start()
    parents = [ChatParent(server.url, risky=(n == 1)) for n in range(PARENTS)]
    total = PARENTS * 15
    rng = random.Random(10)
    # Kill after a random number of acknowledgements, spread over the stream.
    targets = sorted(rng.sample(range(5, total - 5), KILLS))
    progress = asyncio.Event()
    try:
        stream = asyncio.gather(*(p.run(progress) for p in parents))
        for target in targets:
            while sum(len(p.acknowledged) for p in parents) < target:
                progress.clear()
                await asyncio.wait_for(progress.wait(), 60)
            await asyncio.sleep(rng.uniform(0, 0.05))  # land mid-request, not just between
            await server.kill()
            await asyncio.sleep(rng.uniform(0, 0.2))  # clients meet a dead port meanwhile
            await server.start()
        await asyncio.wait_for(stream, 120)
    finally:
        await server.stop()
    assert server.starts == KILLS + 1
    await check_invariants(db_url, parents)
