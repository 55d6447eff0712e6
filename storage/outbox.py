"""The outbox: messages the service sends later, written in the same transaction as their cause.

A dispatcher claims rows and marks them sent; a row claimed and never marked (a crash mid-send)
is not sent again on its own, so nothing goes out twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
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


async def claim(
    session: AsyncSession, now: datetime, channels: set[str], limit: int = 50
) -> list[OutboxMessage]:
    """Take due rows for sending; on PostgreSQL SKIP LOCKED lets several dispatchers share work."""
    statement = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.send_after <= now,
            OutboxMessage.channel.in_(channels),
        )
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(statement)).scalars())
    for row in rows:
        row.status = "sending"
        row.claimed_at = now
        row.attempts += 1
    return rows


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
