"""Per-conversation locks serialise one conversation and are forgotten when idle."""

from __future__ import annotations

import asyncio

from bot.core.locks import ConversationLocks


async def test_one_conversation_at_a_time_and_nothing_kept_afterwards() -> None:
    locks = ConversationLocks()
    order: list[str] = []

    async def work(key: str, name: str) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(work("a", "first"), work("a", "second"), work("b", "other"))
    # The two on "a" never overlap; "b" ran beside them.
    a_only = [step for step in order if not step.startswith("other")]
    assert a_only == ["first in", "first out", "second in", "second out"]
    assert order.index("other in") < order.index("first out")
    assert len(locks) == 0


async def test_a_waiter_keeps_the_lock_alive_for_the_next() -> None:
    locks = ConversationLocks()
    inside = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("a"):
            inside.set()
            await release.wait()

    first = asyncio.create_task(holder())
    await inside.wait()
    second = asyncio.create_task(holder())
    await asyncio.sleep(0)
    assert len(locks) == 1
    release.set()
    await asyncio.gather(first, second)
    assert len(locks) == 0
