"""The outbox: messages the service sends later, written in the same transaction as their cause.

A sender claims a batch of due rows in one statement (`claim_due`; on PostgreSQL `FOR UPDATE
SKIP LOCKED`, so senders in several processes never take the same row), sends them in order and
marks each straight after its send; a crash leaves at most that batch `sending`, and
`release_stale` hands it back once its lease has run out, so every row is sent at least once.
A recipient's rows go in the order written: a row is never claimed while an earlier row of the
same recipient is sending, in retry or deferred, or due and not in the same batch.

On PostgreSQL a process that does not send can `announce_enqueues`: each transaction that
enqueues a row then issues one `NOTIFY helpline_outbox`, delivered at commit, which wakes the
sender (bot/delivery/bell.py) instead of its next poll.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, event, exists, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, aliased, sessionmaker

from storage.models import OutboxMessage

# The channels on which the service can write to a parent first (surveys, nudges, notices):
# web chat and the console cannot be reached once the page or terminal is closed.
PARENT_CHANNELS = frozenset({"telegram", "sms", "whatsapp"})
NOTIFY_CHANNEL = "helpline_outbox"
_QUEUED = "outbox_queued"  # session.info: this transaction enqueued a row
DEFERRED = "deferred (the provider's rate limit)"  # last_error of a row put back unsent


def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    contact_id: int | None = None,
    enquiry_id: int | None = None,
    send_after: datetime | None = None,
) -> OutboxMessage:
    row = OutboxMessage(
        channel=channel,
        address=address,
        kind=kind,
        payload=payload,
        contact_id=contact_id,
        enquiry_id=enquiry_id,
        created_at=now,
        send_after=send_after or now,
        status="pending",
        attempts=0,
    )
    session.add(row)
    session.info[_QUEUED] = True  # rung at commit where enqueues are announced
    return row


def announce_enqueues(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """PostgreSQL: from now on, a transaction of `sessions` that enqueued a row issues one
    NOTIFY before its commit (PostgreSQL delivers it at the commit, and drops it on rollback).
    False, and nothing changed, on SQLite (one machine: the sender polls)."""
    engine = sessions.kw.get("bind")
    if engine is None or engine.dialect.name != "postgresql":
        return False
    ringing: sessionmaker[Session] = sessionmaker()
    event.listen(ringing, "before_commit", _ring)
    event.listen(ringing, "after_soft_rollback", _forget)
    sessions.configure(sync_session_class=ringing)
    return True


def _ring(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


def _forget(session: Session, _transaction: object) -> None:
    session.info.pop(_QUEUED, None)


async def due(
    session: AsyncSession, now: datetime, channels: set[str], limit: int = 100
) -> list[OutboxMessage]:
    """Rows waiting to be sent, oldest first; reading them claims nothing."""
    statement = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.send_after <= now,
            OutboxMessage.channel.in_(channels),
        )
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def claim_due(
    session: AsyncSession, now: datetime, channels: set[str], limit: int
) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for this process in one statement, in sending order.

    A row is left out while an earlier row (by id) of the same recipient (channel and address
    hash) is sending, or pending and either due or tried before, and not claimed in this batch: so
    a recipient's rows go in the order written, whoever sends them. Rows locked by another
    sender are skipped on PostgreSQL (SQLite has one writer and no FOR UPDATE)."""
    m = OutboxMessage
    picked = (
        select(m.id, m.channel, m.address_hash)
        .where(m.status == "pending", m.send_after <= now, m.channel.in_(channels))
        .order_by(m.send_after, m.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    earlier = aliased(OutboxMessage)
    # Due, or tried before (in retry, or deferred): not a row written to go out later on.
    waiting = or_(earlier.send_after <= now, earlier.attempts > 0, earlier.last_error.is_not(None))
    held_back = exists().where(
        earlier.channel == picked.c.channel,
        earlier.address_hash == picked.c.address_hash,
        earlier.id < picked.c.id,
        earlier.id.not_in(select(picked.c.id)),
        or_(earlier.status == "sending", and_(earlier.status == "pending", waiting)),
    )
    statement = (
        update(m)
        .where(m.id.in_(select(picked.c.id).where(~held_back)))
        .values(status="sending", claimed_at=now, attempts=m.attempts + 1)
        .returning(m)
    )
    options = {"synchronize_session": False}
    return in_sending_order(list(await session.scalars(statement, execution_options=options)))


def in_sending_order(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """Recipients by their first due row, and each recipient's rows in the order written."""
    rows = sorted(rows, key=lambda row: (row.send_after, row.id))
    first: dict[tuple[str, str | None], int] = {}  # each recipient's place: its first due row
    for place, row in enumerate(rows):
        first.setdefault((row.channel, row.address_hash), place)
    return sorted(rows, key=lambda row: (first[row.channel, row.address_hash], row.id))


async def release(session: AsyncSession, row_ids: list[int]) -> None:
    """Hand back rows claimed in a batch and not sent (their recipient waits, or the provider's
    pace): pending as they were, the claim not counted as a try."""
    if row_ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == "sending")
            .values(status="pending", claimed_at=None, attempts=OutboxMessage.attempts - 1)
        )


async def claim(session: AsyncSession, row_id: int, now: datetime) -> bool:
    """Take one row for sending now; False when another worker took it first."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
        .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
    )
    return _count(result) == 1


async def release_stale(session: AsyncSession, now: datetime, lease: timedelta) -> int:
    """Rows claimed longer ago than `lease` belong to a dead process: pending again."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - lease)
        .values(status="pending", claimed_at=None)
    )
    return _count(result)


async def put_back(session: AsyncSession, row_id: int, when: datetime) -> None:
    """Unclaim a row that was not sent (a rate limit); the try does not count against it."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            status="pending",
            send_after=when,
            claimed_at=None,
            attempts=OutboxMessage.attempts - 1,
            last_error=DEFERRED,  # its recipient's later rows wait for it (claim_due)
        )
    )


async def mark(
    session: AsyncSession,
    row_id: int,
    *,
    status: str,
    now: datetime,
    provider_message_id: str | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record what happened to a send: sent, failed, or pending again at `retry_at`."""
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    if provider_message_id:
        values["provider_message_id"] = provider_message_id
    if retry_at is not None:
        values.update(status="pending", send_after=retry_at, claimed_at=None)
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


def _count(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
