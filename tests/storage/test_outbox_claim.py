"""The outbox's batch claim: one statement takes a batch of due rows, never a row another
sender holds (PostgreSQL, SKIP LOCKED), and never a recipient's row before an earlier one of
theirs is sent; a batch stranded by a dead process goes out again after its lease."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.core.services import Services
from bot.delivery.worker import LEASE, UNPACED, OutboxWorker, Outcome
from storage import outbox
from storage.models import OutboxMessage
from tests.conftest import FakeClock


async def _enqueue(services: Services, address: str, text: str, **extra: object) -> int:
    async with services.sessions.begin() as session:
        row = outbox.enqueue(
            session,
            channel="sms",
            address=address,
            kind="notice",
            payload={"text": text},
            now=services.now(),
            **extra,  # type: ignore[arg-type]
        )
        await session.flush()
        return row.id


async def _statuses(services: Services) -> dict[int, tuple[str, int]]:
    async with services.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return {r.id: (r.status, r.attempts) for r in rows}


class Recorder:
    """A sender that accepts every row and remembers, in order, what it was given."""

    channels = frozenset({"sms"})

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def ready(self, now: object) -> bool:
        return True

    def hold(self, row: OutboxMessage, now: object) -> None:
        return None

    def room(self, now: object) -> int:
        return UNPACED

    async def send(self, row: OutboxMessage, now: object) -> Outcome:
        self.sent.append((row.address, row.payload["text"]))
        return Outcome("sent", f"SM{row.id}")

    async def close(self) -> None:
        return None


async def test_a_recipients_later_rows_wait_for_the_earlier_ones(
    services: Services, clock: FakeClock
) -> None:
    a1 = await _enqueue(services, "+447700900001", "a1")
    a2 = await _enqueue(services, "+447700900001", "a2")
    b1 = await _enqueue(services, "+447700900002", "b1")
    a3 = await _enqueue(services, "+447700900001", "a3")
    later = clock() + timedelta(days=3)  # a survey for later does not hold replies back
    await _enqueue(services, "+447700900003", "c-survey", send_after=later)
    c1 = await _enqueue(services, "+447700900003", "c1")
    async with services.sessions.begin() as session:
        first = await outbox.claim_due(session, clock(), {"sms"}, limit=2)
    assert [r.id for r in first] == [a1, a2]  # claimed together, in order
    async with services.sessions.begin() as session:
        second = await outbox.claim_due(session, clock(), {"sms"}, limit=50)
    assert [r.id for r in second] == [b1, c1]  # a3 waits while a1 and a2 are sending
    async with services.sessions.begin() as session:
        await outbox.mark(session, a1, status="sent", now=clock())
        retry = clock() + timedelta(seconds=30)
        await outbox.mark(session, a2, status="pending", now=clock(), retry_at=retry, error="x")
    async with services.sessions.begin() as session:
        assert await outbox.claim_due(session, clock(), {"sms"}, limit=50) == []  # a2 in retry
    clock.advance(seconds=31)
    async with services.sessions.begin() as session:
        assert [r.id for r in await outbox.claim_due(session, clock(), {"sms"}, 50)] == [a2, a3]


async def test_rows_claimed_and_not_sent_are_handed_back_uncounted(
    services: Services, clock: FakeClock
) -> None:
    ids = [await _enqueue(services, f"+4477009000{n:02d}", "hi") for n in range(3)]
    async with services.sessions.begin() as session:
        claimed = await outbox.claim_due(session, clock(), {"sms"}, limit=50)
        await outbox.release(session, [r.id for r in claimed[1:]])
    assert await _statuses(services) == {
        ids[0]: ("sending", 1),
        ids[1]: ("pending", 0),
        ids[2]: ("pending", 0),
    }


async def test_a_batch_stranded_by_a_dead_process_is_sent_once_after_its_lease(
    services: Services, clock: FakeClock
) -> None:
    for text in ("one", "two", "three"):
        await _enqueue(services, "+447700900001", text)
    await _enqueue(services, "+447700900002", "other")
    async with services.sessions.begin() as session:
        assert len(await outbox.claim_due(session, clock(), {"sms"}, limit=50)) == 4
    # ...and the process died before sending any of them.
    recorder = Recorder()
    worker = OutboxWorker(services, {"sms": recorder})
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert await worker.run_once(clock()) == 0  # a live sender's batch is not taken from it
    clock.advance(seconds=2)
    assert await worker.run_once(clock()) == 4
    assert recorder.sent == [
        ("+447700900001", "one"),
        ("+447700900001", "two"),
        ("+447700900001", "three"),
        ("+447700900002", "other"),
    ]
    assert set((await _statuses(services)).values()) == {("sent", 2)}
    assert await worker.run_once(clock()) == 0


# SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_senders_at_once_share_the_rows_and_keep_each_recipients_order(
    services: Services, clock: FakeClock
) -> None:
    # An open claim holds its rows locked: the other sender skips them and every later row of
    # the same recipients, and takes the rest.
    ids = {}
    for name in ("a1", "a2", "b1", "a3", "b2", "c1"):
        ids[name] = await _enqueue(services, f"+44770090000{name[0]}", name)
    async with services.sessions.begin() as first:
        held = await outbox.claim_due(first, clock(), {"sms"}, limit=3)
        assert [r.id for r in held] == [ids["a1"], ids["a2"], ids["b1"]]
        async with services.sessions.begin() as second:
            other = await outbox.claim_due(second, clock(), {"sms"}, limit=50)
            assert [r.id for r in other] == [ids["c1"]]
    async with services.sessions.begin() as session:
        await session.execute(update(OutboxMessage).values(status="sent"))
    # Many rows, two workers sweeping at once (small batches, so that they interleave): each
    # row sent once, each recipient's in the order written.
    await _many_rows(services)
    recorder = Recorder()
    workers = [OutboxWorker(services, {"sms": recorder}, batch=7) for _ in range(2)]
    for _ in range(40):
        await asyncio.gather(*(w.run_once(clock()) for w in workers))
        clock.advance(seconds=1)
    texts = [text for _, text in recorder.sent]
    assert sorted(texts) == sorted(f"{p}-{n:02d}" for p in "pqrst" for n in range(20))
    for person in "pqrst":
        theirs = [t for t in texts if t.startswith(person)]
        assert theirs == sorted(theirs), f"{person}'s rows out of order"


async def _many_rows(services: Services) -> None:
    rng = random.Random(19)
    queue = [(p, n) for p in "pqrst" for n in range(20)]
    counters = dict.fromkeys("pqrst", 0)
    rng.shuffle(queue)
    for person, _ in queue:  # each person's texts numbered in the order enqueued
        await _enqueue(
            services, f"+44770091000{'pqrst'.index(person)}", f"{person}-{counters[person]:02d}"
        )
        counters[person] += 1
