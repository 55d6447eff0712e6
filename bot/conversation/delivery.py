"""Delivery: the inbox (de-duplicated) → the conversation's lock → one transaction, exactly
once per provider id; what a message *means* is the router's `_process_row`.

A first delivery is recorded and processed in one transaction, committed once before the
provider hears 2xx; a redelivery replays the replies the first one stored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.message import Inbound, Processed
from bot.core import metrics
from bot.core.locks import ConversationLocks
from flows.engine import Reply
from storage import inbox
from storage.crypto import lookup_hash
from storage.models import Contact, InboxMessage

log = logging.getLogger(__name__)
RACE_RETRIES = 3
SQLITE_WRITER = ("sqlite", "writer")  # the one lock key every SQLite writer shares


def _as_recorded(message: Inbound) -> dict[str, Any]:
    """The inbox row's fields for a delivery (storage.inbox.record_inbound's arguments)."""
    return {
        "channel": message.channel,
        "provider_id": message.provider_id,
        "address": message.address,
        "payload": message.payload(),
        "received_at": message.received_at,
    }


class Delivery:
    """Takes inbound messages through the inbox to `_process_row`, exactly once each."""

    sessions: async_sessionmaker[AsyncSession]
    outbox_channels: frozenset[str]
    locks: ConversationLocks
    # SQLite takes one writer at a time: there, every conversation shares one lock.
    _one_writer: bool

    async def _process_row(self, session: AsyncSession, row: InboxMessage) -> Processed:
        raise NotImplementedError

    # -- the path -----------------------------------------------------------
    async def deliver(self, message: Inbound) -> list[Reply]:
        """Record then process; a redelivery returns what the first delivery replied."""
        return (await self.deliver_message(message)).replies

    async def deliver_message(self, message: Inbound) -> Processed:
        """`deliver`, also giving the contact's language (None for a forgotten contact), so a
        channel that renders by language needs no second read.

        A first delivery is recorded and processed in one transaction, committed once before
        the caller answers: the inbox row and everything it caused land together or not at
        all (then the provider, given no 2xx, delivers it again). A redelivery replays what
        the first delivery replied, or processes it now when that one never was."""
        key = (message.channel, message.address)
        try:
            done = await self._first_delivery(message, key)
        except Exception:
            # Processing failed: keep the delivery (processed at the next start, or when the
            # provider tries again), then let the channel answer as it must.
            await self.record(message)
            raise
        if done is not None:
            return done
        async with self.sessions() as session:
            row = await inbox.find_inbound(session, message.channel, message.provider_id)
        if row is None:
            return Processed([], None)
        return await self.process_message(row.id, key=(row.channel, row.address))

    async def _first_delivery(self, message: Inbound, key: tuple[str, str]) -> Processed | None:
        """Record and process in one transaction; None when the provider id was seen before."""

        async def claim_and_process(session: AsyncSession) -> Processed | None:
            row = await inbox.claim_inbound(session, **_as_recorded(message))
            return None if row is None else await self._process_row(session, row)

        done = await self._in_turn(key, claim_and_process)
        metrics.MESSAGES_IN.labels(message.channel, "redelivery" if done is None else "new").inc()
        return done

    async def _in_turn(
        self, key: tuple[str, str], work: Callable[[AsyncSession], Awaitable[Processed | None]]
    ) -> Processed | None:
        """`work` in one transaction under its conversation's lock (on SQLite, the one writer
        lock), run again when a new contact raced another worker."""
        async with self.locks.hold(SQLITE_WRITER if self._one_writer else key):
            for attempt in range(1, RACE_RETRIES + 1):
                try:
                    async with self.sessions.begin() as session:
                        done = await work(session)
                    if done is not None and key[0] not in self.outbox_channels:
                        metrics.replied(key[0], len(done.replies))  # the outbox counts its own
                    return done
                except IntegrityError:
                    # Another worker created this contact or conversation a moment ago
                    # (the in-process lock cannot see it): run again on its row.
                    if attempt == RACE_RETRIES:
                        raise
                    log.info("a new contact raced another worker; processing again")
            raise AssertionError("unreachable")

    async def record(self, message: Inbound) -> int | None:
        """Commit the delivery to the inbox; only after this may the provider get its 2xx."""
        async with self.sessions.begin() as session:
            inbox_id = await inbox.record_inbound(session, **_as_recorded(message))
        metrics.MESSAGES_IN.labels(
            message.channel, "redelivery" if inbox_id is None else "new"
        ).inc()
        return inbox_id

    async def recover(self) -> int:
        """Process deliveries acknowledged before a crash but never processed."""
        async with self.sessions() as session:
            pending = await inbox.unprocessed(session, limit=10_000)
        for row in pending:
            await self.process_message(row.id, key=(row.channel, row.address))
        return len(pending)

    @asynccontextmanager
    async def one_writer(self) -> AsyncIterator[None]:
        """On SQLite writers take turns (one database lock for the whole process) rather than
        fail with "database is locked"; on PostgreSQL row locks do the work."""
        if not self._one_writer:
            yield
            return
        async with self.locks.hold(SQLITE_WRITER):
            yield

    async def process_message(self, inbox_id: int, key: tuple[str, str]) -> Processed:
        """Process one recorded delivery under its conversation's lock.

        `key` is the delivery's (channel, address), which every caller already holds; the
        language comes back so a channel rendering by language needs no second read.
        """
        done = await self._in_turn(key, lambda session: self._process(session, inbox_id))
        assert done is not None  # _process always answers (an empty Processed at worst)
        return done

    async def _process(self, session: AsyncSession, inbox_id: int) -> Processed:
        row = await session.get(InboxMessage, inbox_id, with_for_update=True)
        if row is None:
            return Processed([], None)
        if row.processed_at is None:
            return await self._process_row(session, row)
        items = (row.replies or {}).get("items", [])
        language = await session.scalar(
            select(Contact.language).where(
                Contact.channel == row.channel,
                Contact.address_hash == lookup_hash(row.address),
            )
        )
        return Processed([Reply.from_dict(item) for item in items], language)
