"""The inbox: every inbound delivery is written here, once, before the provider hears 2xx."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from storage.crypto import lookup_hash
from storage.models import InboxMessage


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
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(InboxMessage)
        .values(
            channel=channel,
            provider_id=provider_id,
            address=address,
            address_hash=lookup_hash(address),
            payload=payload,
            received_at=received_at,
        )
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(InboxMessage.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


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
        id=inbox_id,
        channel=channel,
        provider_id=provider_id,
        address=address,
        address_hash=lookup_hash(address),
        payload=payload,
        received_at=received_at,
        processed_at=None,
        replies=None,
    )
    make_transient_to_detached(row)  # it is in the table: known to the session, not loaded
    session.add(row)
    return row


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
