"""The one outbox worker: claim a batch of due rows, send each through its channel's sender,
mark each as soon as its provider answers.

One statement claims the batch (storage/outbox.py `claim_due`), so senders in several processes
cost one claim a sweep, not one per row each. A crash leaves at most that batch `sending`; after
its lease it is pending again and sent (at least once): only the row whose send was under way
can go twice. Every sender fails the same three ways, and one policy retries them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import metrics
from bot.core.services import Services
from storage import outbox
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(seconds=30)  # then doubled each try: 30 s, 1, 2, 4 min, then failed
LEASE = timedelta(minutes=2)  # longer than any send may take (SMTP gives up after 30 s)
MIN_GAP = 0.05  # seconds from one sweep's start to the next: a burst of wake-ups, few sweeps
UNPACED = 1_000  # a sender with no pace of its own: the batch size decides
BATCH = 50  # rows claimed at once: about what one sweep sends (Telegram: 30 a second)


class Deferred(Exception):
    """Not sent, and safe to try again at `when` (a rate limit): the try does not count."""

    def __init__(self, when: datetime) -> None:
        super().__init__(when.isoformat())
        self.when = when


class Transient(Exception):
    """Not sent this time (network trouble, a busy provider): back off and try again."""


class Permanent(Exception):
    """The provider refused this message for good (bad address, blocked bot): do not retry."""


@dataclass(frozen=True)
class Outcome:
    """How a send ended: "sent", "failed" or "suppressed" (opted out), the provider's id."""

    status: str
    provider_id: str | None = None
    error: str | None = None


class Sender(Protocol):
    """One medium (Telegram, Twilio, SMTP) for the channels it names."""

    channels: frozenset[str]

    async def ready(self, now: datetime) -> bool:
        """Whether to send on these channels in this sweep (connected, not paused)."""

    def hold(self, row: OutboxMessage, now: datetime) -> datetime | None:
        """None when the row may go now; otherwise the earliest time it may (a rate limit)."""

    def room(self, now: datetime) -> int:
        """How many rows it may send in this sweep (its pace; UNPACED when it has none): the
        claim takes no more, so a backlog is not claimed, decrypted and handed back each sweep."""

    async def send(self, row: OutboxMessage, now: datetime) -> Outcome:
        """Send, or raise Deferred, Transient or Permanent."""

    async def close(self) -> None: ...


class Expander(Protocol):
    """The step before sending: a row addressed to a role ("duty", "managers") becomes rows per
    person, in the transaction that claims it, so a crash fans it out wholly or not at all."""

    def takes(self, row: OutboxMessage) -> bool: ...

    async def expand(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None: ...


Marked = Callable[[AsyncSession, OutboxMessage, str, datetime], Awaitable[None]]


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When a transient failure is tried again, or None when it has had its tries."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + FIRST_RETRY * (1 << max(attempts - 1, 0))


class OutboxWorker:
    """Sends due outbox rows through the senders plugged in; `run_once` is one sweep."""

    def __init__(
        self,
        services: Services,
        senders: Mapping[str, Sender],
        expanders: Mapping[str, Expander] | None = None,
        *,
        lease: timedelta = LEASE,
        batch: int = BATCH,
    ) -> None:
        self.services = services
        self.senders = dict(senders)
        self.expanders = dict(expanders or {})
        self.lease = lease
        self.batch = batch
        self.on_close: list[Callable[[], Awaitable[None]]] = []
        # Run in the transaction that marks a row, with its new status (officer texts: reach).
        self.on_marked: list[Marked] = []
        # Rings `wake` when another process enqueues (PostgreSQL NOTIFY); None: polling only.
        self.bell: Callable[[Callable[[], None]], Coroutine[Any, Any, None]] | None = None
        self.woken = 0  # wake-ups that cut a wait short (the bell's, or this process's own)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, interval: float = 1.0) -> None:
        """Sweep every `interval` seconds (or at once when woken) until cancelled."""
        bell = asyncio.create_task(self.bell(self.wake), name="outbox-bell") if self.bell else None
        loop = asyncio.get_running_loop()
        try:
            while True:
                started = loop.time()
                try:
                    await self.run_once(self.services.now())
                except Exception as exc:  # a bad minute must not stop the worker for good
                    log.error("outbox sweep failed: %s", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
                    self.woken += 1
                self._wake.clear()
                await asyncio.sleep(max(0.0, started + MIN_GAP - loop.time()))
        finally:
            if bell is not None:
                bell.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await bell

    async def close(self) -> None:
        for sender in {id(s): s for s in self.senders.values()}.values():
            await sender.close()
        for close in self.on_close:
            await close()

    async def run_once(self, now: datetime) -> int:
        """Send what is due now; returns how many rows were sent."""
        sessions = self.services.sessions
        async with sessions.begin() as session:
            stale = await outbox.release_stale(session, now, self.lease)
        if stale:
            log.warning("%d outbox rows left sending by a dead process: sending again", stale)
        await self._expand(now)
        # The ready senders' channels, by how many rows their pace allows this sweep: one claim
        # for all that have no pace, one for Telegram's (its two senders share one pace).
        paced: dict[int, set[str]] = {}
        for channel, sender in self.senders.items():
            if await sender.ready(now):
                paced.setdefault(min(self.batch, sender.room(now)), set()).add(channel)
        paced.pop(0, None)
        if not paced:
            return 0
        rows: list[OutboxMessage] = []
        async with sessions.begin() as session:
            for room, channels in paced.items():
                rows += await outbox.claim_due(session, now, channels, room)
        if len(paced) > 1:  # in order across claims too (one chat may have two senders)
            rows = outbox.in_sending_order(rows)
        sent = 0
        waiting: set[tuple[str, str | None]] = set()  # a recipient's later rows keep their order
        unsent: list[int] = []
        handled: set[int] = set()
        in_flight: int | None = None  # if stopped during its send: sent or not, its lease says
        try:
            for row in rows:
                key = (row.channel, row.address_hash)
                expander = self.expanders.get(row.channel)
                sender = self.senders[row.channel]
                handled.add(row.id)
                if (
                    key in waiting
                    or (expander is not None and expander.takes(row))  # fanned out next sweep
                    or sender.hold(row, now) is not None
                ):
                    waiting.add(key)
                    unsent.append(row.id)
                    continue
                in_flight = row.id
                outcome = await self._send(sender, row, now)
                in_flight = None
                if outcome is None or outcome.status != "sent":
                    waiting.add(key)
                sent += outcome is not None and outcome.status == "sent"
        finally:  # what was not sent goes back now, not after the lease (also when stopped)
            unsent += [r.id for r in rows if r.id not in handled and r.id != in_flight]
            if unsent:
                async with sessions.begin() as session:
                    await outbox.release(session, unsent)
        return sent

    async def _expand(self, now: datetime) -> None:
        if not self.expanders:
            return
        async with self.services.sessions.begin() as session:
            for row in await outbox.due(session, now, set(self.expanders)):
                expander = self.expanders[row.channel]
                if expander.takes(row) and await outbox.claim(session, row.id, now):
                    await expander.expand(session, row, now)
                    await outbox.mark(session, row.id, status="expanded", now=now)

    async def _send(self, sender: Sender, row: OutboxMessage, now: datetime) -> Outcome | None:
        """Send one claimed row and mark it at once; None when it was put back for later."""
        retry: datetime | None = None
        try:
            outcome = await sender.send(row, now)
        except Deferred as later:
            async with self.services.sessions.begin() as session:
                await outbox.put_back(session, row.id, later.when)
            return None
        except Permanent as exc:
            outcome = Outcome("failed", None, str(exc)[:255])
        except Exception as exc:  # Transient, or trouble we did not foresee: back off
            error = str(exc)[:255] if isinstance(exc, Transient) else type(exc).__name__
            retry = retry_at(row.attempts, now)
            outcome = Outcome("pending" if retry else "failed", None, error)
        # The window that can send a row twice is from here to the commit below: keep it bare.
        async with self.services.sessions.begin() as session:
            await outbox.mark(
                session,
                row.id,
                status=outcome.status,
                now=now,
                provider_message_id=outcome.provider_id[:64] if outcome.provider_id else None,
                error=outcome.error,
                retry_at=retry,
            )
            for hook in self.on_marked:
                await hook(session, row, "pending" if retry else outcome.status, now)
        metrics.sent(row.channel, "pending" if retry else outcome.status, outcome.error)
        if outcome.status != "sent":
            log.warning("%s row %d not sent: %s", row.channel, row.id, outcome.error)
        return outcome
