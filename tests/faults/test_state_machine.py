"""A Hypothesis state machine over the message path, checking DESIGN.md's invariants:
nothing acknowledged lost, nothing done twice, every open enquiry with exactly one callback
dated by the working-day clock (or the urgent rule), and every outbox row handed out again only
when a crash stranded it (at least once, and twice only then).

Rules: deliver, redeliver, concurrent duplicate, crash (recorded, never processed, then a
fresh process recovers), advance the clock across weekends and bank holidays, sweep idle
conversations, and send (claim, sometimes "crash" before marking).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text

from bot.conversation.idle import expire_idle
from bot.conversation.router import Inbound
from bot.core.services import Services
from bot.delivery.worker import LEASE
from bot.domain.callbacks import URGENT_DELTA, call_by
from bot.wiring import build_services
from storage import outbox
from storage.db import make_engine
from storage.models import (
    Base,
    Callback,
    Contact,
    Enquiry,
    InboxMessage,
    RiskMatch,
    TranscriptLine,
)
from tests.conftest import FakeClock, london, test_settings
from tests.parent import ANSWERS

ADDRESSES = ("parent-a", "parent-b")
RISKY = "I think he will kill himself"
STARTS = (
    london(2026, 11, 23, 10, 0),  # an ordinary Monday
    london(2026, 11, 27, 16, 30),  # Friday afternoon, across the weekend
    london(2026, 12, 24, 15, 0),  # Christmas Eve, into Christmas and Boxing Day (Mon 28th)
    london(2027, 3, 25, 16, 0),  # Thursday before Good Friday and Easter Monday
)
CHANNELS = {"staff", "telegram", "sms", "whatsapp", "webchat", "console"}


async def _reset(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as connection:
        if url.startswith("sqlite"):
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
        else:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


class MessagePath(RuleBasedStateMachine):
    database_url = ""
    enquiries_seen = 0  # how much of the space the run reached (asserted > 0 below)

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.run(_reset(self.database_url))
        self.clock = FakeClock(STARTS[0])
        self.settings = test_settings(self.database_url)
        self.services: Services = build_services(self.settings, now=self.clock)
        self.step: dict[str, int] = dict.fromkeys(ADDRESSES, 0)
        self.acknowledged: dict[str, tuple[str, str]] = {}  # provider id -> (address, text)
        self.replies: dict[str, list[str]] = {}
        self.claimed: set[int] = set()
        self.marked: set[int] = set()
        self.stranded: dict[int, datetime] = {}  # claimed, never marked (the crash) -> when

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    def teardown(self) -> None:
        self.run(self.services.close())
        self.runner.close()

    def _next(self, address: str, risky: bool) -> Inbound:
        step = self.step[address]
        self.step[address] = step + 1
        script = ["hello", *ANSWERS, "1"]
        said = RISKY if risky else script[step % len(script)]
        return Inbound("console", address, uuid.uuid4().hex, said, self.clock())

    def _ack(self, message: Inbound, replies: list[Any]) -> None:
        self.acknowledged[message.provider_id] = (message.address, message.text)
        self.replies[message.provider_id] = [r.text for r in replies]

    # -- rules -----------------------------------------------------------------
    @initialize(start=st.sampled_from(STARTS))
    def start_at(self, start: datetime) -> None:
        self.clock.set(start)

    @rule(address=st.sampled_from(ADDRESSES))
    def deliver(self, address: str) -> None:
        message = self._next(address, risky=False)
        self._ack(message, self.run(self.services.router.deliver(message)))

    @rule(address=st.sampled_from(ADDRESSES))
    def finish_intake(self, address: str) -> None:
        """A parent answers every remaining question in a row (reaches the enquiry)."""
        while True:
            message = self._next(address, risky=False)
            self._ack(message, self.run(self.services.router.deliver(message)))
            if self.step[address] % (len(ANSWERS) + 2) == 0:
                return

    @rule(address=st.sampled_from(ADDRESSES))
    def deliver_risky(self, address: str) -> None:
        message = self._next(address, risky=True)
        replies = self.run(self.services.router.deliver(message))
        assert "999" in replies[0].text
        self._ack(message, replies)

    @precondition(lambda self: bool(self.acknowledged))
    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        provider_id = data.draw(st.sampled_from(sorted(self.acknowledged)))
        address, said = self.acknowledged[provider_id]
        again = Inbound("console", address, provider_id, said, self.clock())
        replies = self.run(self.services.router.deliver(again))
        assert [r.text for r in replies] == self.replies[provider_id]

    @rule(address=st.sampled_from(ADDRESSES))
    def concurrent_duplicate(self, address: str) -> None:
        message = self._next(address, risky=False)

        async def both() -> list[list[Any]]:
            return list(await asyncio.gather(*(self.services.router.deliver(message),) * 2))

        first, second = self.run(both())
        assert [r.text for r in first] == [r.text for r in second]
        self._ack(message, first)

    @rule(address=st.sampled_from(ADDRESSES))
    def crash_after_acknowledging(self, address: str) -> None:
        message = self._next(address, risky=False)
        assert self.run(self.services.router.record(message)) is not None
        self.run(self.services.close())  # the process dies; a new one starts and recovers
        self.services = build_services(self.settings, now=self.clock)
        assert self.run(self.services.router.recover()) == 1

        async def stored() -> list[str]:
            async with self.services.sessions() as session:
                row = await session.scalar(
                    select(InboxMessage).where(InboxMessage.provider_id == message.provider_id)
                )
                assert row is not None and row.processed_at is not None
                return [i["text"] for i in (row.replies or {}).get("items", [])]

        self.acknowledged[message.provider_id] = (message.address, message.text)
        self.replies[message.provider_id] = self.run(stored())

    @rule(hours=st.sampled_from([0.5, 3, 7, 16, 26, 64, 24 * 4]))
    def advance(self, hours: float) -> None:
        self.clock.advance(hours=hours)

    @rule()
    def sweep(self) -> None:
        self.run(expire_idle(self.services.router, self.clock()))

    @rule(crash_before_mark=st.booleans())
    def send(self, crash_before_mark: bool) -> None:
        """Claim due rows one at a time as the worker does; a crash leaves the one in hand."""

        async def claim_and_mark() -> list[int]:
            now = self.clock()
            async with self.services.sessions.begin() as session:
                released = await outbox.release_stale(session, now, LEASE)
            assert released == len(self.stranded_before(now)), "only dead claims are released"
            self.stranded = {i: t for i, t in self.stranded.items() if t > now - LEASE}
            async with self.services.sessions() as session:
                due = [row.id for row in await outbox.due(session, now, CHANNELS)]
            taken = []
            for row_id in due:
                async with self.services.sessions.begin() as session:
                    if not await outbox.claim(session, row_id, now):
                        continue
                taken.append(row_id)
                if crash_before_mark:
                    self.stranded[row_id] = now
                    break  # the process dies with this one row in hand
                async with self.services.sessions.begin() as session:
                    await outbox.mark(session, row_id, status="sent", now=now)
            return taken

        ids = self.run(claim_and_mark())
        for row_id in ids:
            assert row_id not in self.marked, "a row marked sent was handed out again"
            if row_id not in self.stranded:
                self.marked.add(row_id)
        self.claimed |= set(ids)

    def stranded_before(self, now: datetime) -> dict[int, datetime]:
        return {i: t for i, t in self.stranded.items() if t <= now - LEASE}

    # -- invariants --------------------------------------------------------------
    @invariant()
    def nothing_lost_nothing_doubled(self) -> None:
        async def check() -> None:
            async with self.services.sessions() as session:
                rows = list(await session.scalars(select(InboxMessage)))
                assert {r.provider_id for r in rows} == set(self.acknowledged)
                assert all(r.processed_at is not None for r in rows)
                lines = await session.execute(
                    select(Contact.address, TranscriptLine.text)
                    .join(Contact, TranscriptLine.contact_id == Contact.id)
                    .where(TranscriptLine.direction == "in")
                )
                kept = Counter((address, said) for address, said in lines)
                sent = Counter(self.acknowledged.values())
                assert kept <= sent, "a transcript line was written twice"

        self.run(check())

    @invariant()
    def every_open_enquiry_has_one_callback_due_by_the_clock(self) -> None:
        clock = self.services.clock

        async def check() -> None:
            async with self.services.sessions() as session:
                enquiries = list(
                    await session.scalars(select(Enquiry).where(Enquiry.status == "open"))
                )
                for enquiry in enquiries:
                    callbacks = list(
                        await session.scalars(
                            select(Callback).where(Callback.enquiry_id == enquiry.id)
                        )
                    )
                    assert len(callbacks) == 1
                    # Kept inside the parent's chosen window on the target's day.
                    target = clock.due_at(enquiry.received_at, 1)
                    due = call_by(clock, target, callbacks[0].preferred_time)
                    if callbacks[0].urgent:
                        # Within one working hour of the first concern, never later than it
                        # was (an enquiry opened by the concern has received_at = its time).
                        first = await session.scalar(
                            select(func.min(RiskMatch.at)).where(RiskMatch.enquiry_id == enquiry.id)
                        )
                        assert first is not None
                        due = min(due, clock.add_working_time(first, URGENT_DELTA))
                    assert callbacks[0].due_at == due
                sent_twice = await session.scalar(
                    select(func.count())
                    .select_from(Callback)
                    .join(Enquiry, Callback.enquiry_id == Enquiry.id)
                    .where(Enquiry.status == "open")
                    .group_by(Callback.enquiry_id)
                    .having(func.count() > 1)
                )
                assert sent_twice is None
                MessagePath.enquiries_seen += len(enquiries)

        self.run(check())


async def test_the_message_path_keeps_its_invariants(db_url: str) -> None:
    MessagePath.database_url = db_url
    MessagePath.enquiries_seen = 0
    await asyncio.to_thread(
        run_state_machine_as_test,
        MessagePath,
        settings=settings(
            max_examples=8,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            derandomize=True,
        ),
    )
    assert MessagePath.enquiries_seen > 0, "the run reached enquiries and callbacks"
