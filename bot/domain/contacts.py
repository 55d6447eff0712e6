"""Who wrote to us, on which channel: one home for finding a contact by its address.

Addresses are stored encrypted, so a contact is found by the keyed hash of its address, never
by the address itself; every channel and job goes through here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import lookup_hash
from storage.models import Contact


async def find(session: AsyncSession, channel: str, address: str) -> Contact | None:
    return await session.scalar(
        select(Contact).where(
            Contact.channel == channel, Contact.address_hash == lookup_hash(address)
        )
    )


async def find_or_create(
    session: AsyncSession,
    channel: str,
    address: str,
    now: datetime,
    *,
    language: str | None = None,
) -> Contact:
    """The contact at this address, created on first contact; `last_seen_at` is now."""
    contact = await find(session, channel, address)
    if contact is None:
        contact = Contact(
            channel=channel,
            address=address,
            language=language,
            opted_out=False,
            unreachable=False,
            created_at=now,
            last_seen_at=now,
        )
        session.add(contact)
        await session.flush()
    contact.last_seen_at = now
    return contact
