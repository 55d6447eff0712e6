"""The outbox: messages the service sends later, written in the same transaction as their cause.

A worker claims one row at the moment it sends it and marks it straight after, so a crash can
leave at most the rows it was sending `sending`; `release_stale` hands those back once their
lease has run out, so every row is sent at least once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage

# The channels on which the service can write to a parent first (surveys, nudges, notices):
# web chat and the console cannot be reached once the page or terminal is closed.
PARENT_CHANNELS = frozenset({"telegram", "sms", "whatsapp"})


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
    return row


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
            status="pending", send_after=when, claimed_at=None, attempts=OutboxMessage.attempts - 1
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
