"""The inbox: every inbound delivery is written here, once, before the provider hears 2xx."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import lookup_hash
from storage.models import INBOX, InboxMessage
from storage.written import stored

# Built once per dialect: a new statement per message would cost its cache key each time.
_RECORD = {
    name: dialect.insert(INBOX)
    .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
    .returning(INBOX.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def record_inbound(
    session: AsyncSession,
    *,
    channel: str,
    provider_id: str,
    address: str,
    payload: dict[str, Any],
    received_at: datetime,
) -> int | None:
    """Insert the delivery; None when this provider id was seen before (a redelivery)."""
    statement = _RECORD[session.get_bind().dialect.name]
    values = {
        "channel": channel,
        "provider_id": provider_id,
        "address": address,
        "address_hash": lookup_hash(address),
        "payload": payload,
        "received_at": received_at,
    }
    # A Core statement on the session's connection: no ORM bookkeeping for a plain insert.
    connection = await session.connection()
    inbox_id: int | None = (await connection.execute(statement, values)).scalar_one_or_none()
    return inbox_id


async def claim_inbound(
    session: AsyncSession,
    *,
    channel: str,
    provider_id: str,
    address: str,
    payload: dict[str, Any],
    received_at: datetime,
) -> InboxMessage | None:
    """Insert the delivery and hand back its row, in this session, to be processed in the same
    transaction (no second read); None for a redelivery."""
    inbox_id = await record_inbound(
        session,
        channel=channel,
        provider_id=provider_id,
        address=address,
        payload=payload,
        received_at=received_at,
    )
    if inbox_id is None:
        return None
    row = InboxMessage(
        channel=channel,
        provider_id=provider_id,
        address=address,
        address_hash=lookup_hash(address),
        payload=payload,
        received_at=received_at,
        processed_at=None,
        replies=None,
    )
    return stored(session, row, inbox_id)  # in the table already: no second read


_MARK = update(INBOX).where(INBOX.c.id == bindparam("key"))


async def mark_processed(
    session: AsyncSession, row: InboxMessage, replies: dict[str, Any], now: datetime
) -> None:
    """Processed, with the replies a redelivery will get: one prebuilt Core UPDATE (the row
    object is left as it is, so the session has nothing of it to flush)."""
    connection = await session.connection()
    await connection.execute(_MARK, {"key": row.id, "processed_at": now, "replies": replies})


async def find_inbound(
    session: AsyncSession, channel: str, provider_id: str
) -> InboxMessage | None:
    statement = select(InboxMessage).where(
        InboxMessage.channel == channel, InboxMessage.provider_id == provider_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def unprocessed(session: AsyncSession, limit: int = 100) -> list[InboxMessage]:
    """Deliveries acknowledged but not yet processed (the process died in between)."""
    statement = (
        select(InboxMessage)
        .where(InboxMessage.processed_at.is_(None))
        .order_by(InboxMessage.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def redact_address(
    session: AsyncSession, channel: str, address: str, *, drop_address: bool = False
) -> None:
    """Blank what a person sent when they withdraw (stop, no consent): nothing is kept.

    `drop_address` also forgets who sent it, for someone the service keeps nothing about."""
    values: dict[str, Any] = {"payload": {"redacted": True}}
    if drop_address:
        values.update(address="redacted", address_hash=None)
    await session.execute(
        update(InboxMessage)
        .where(InboxMessage.channel == channel, InboxMessage.address_hash == lookup_hash(address))
        .values(**values)
    )
