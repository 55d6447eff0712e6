"""Who wrote to us, on which channel: one home for finding a contact by its address.

Addresses are stored encrypted, so a contact is found by the keyed hash of its address, never
by the address itself; every channel and job goes through here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import lookup_hash
from storage.models import Contact, Conversation
from storage.written import insert_row, load, selecting, update_row

# The message path's look-up, built once (bench/path_cost.py counts what a new one costs).
_AT_ADDRESS = selecting(
    Contact,
    Contact.channel == bindparam("channel"),
    Contact.address_hash == bindparam("address_hash"),
)
_CONVERSATION = selecting(
    Conversation, Conversation.contact_id == bindparam("contact"), locked=True
)
# WhatsApp's customer-care window: free text only this long after the parent's last message.
WHATSAPP_WINDOW = timedelta(hours=24)


def in_whatsapp_window(contact: Contact | None, now: datetime) -> bool:
    """Whether free text may go to this WhatsApp contact now; outside, only a template."""
    seen = contact.last_inbound_at if contact is not None else None
    return seen is not None and now - seen <= WHATSAPP_WINDOW


async def find(session: AsyncSession, channel: str, address: str) -> Contact | None:
    """The contact at this address, by its keyed hash (one prebuilt statement)."""
    where = {"channel": channel, "address_hash": lookup_hash(address)}
    return await load(session, Contact, _AT_ADDRESS, where)


async def find_or_create(
    session: AsyncSession,
    channel: str,
    address: str,
    now: datetime,
    *,
    language: str | None = None,
) -> Contact:
    """The contact at this address, created on first contact; `last_seen_at` is now."""
    return (await arrived(session, channel, address, now, language=language))[0]


async def arrived(
    session: AsyncSession,
    channel: str,
    address: str,
    now: datetime,
    *,
    language: str | None = None,
    inbound_at: datetime | None = None,
) -> tuple[Contact, bool]:
    """`find_or_create`, also saying whether the contact is new (so it has no conversation
    to look for); a message's `inbound_at` is written with the rest, in one statement."""
    contact = await find(session, channel, address)
    if contact is not None:
        seen = {"last_seen_at": now}
        if inbound_at is not None:
            seen["last_inbound_at"] = inbound_at
        await update_row(session, contact, **seen)
        return contact, False
    contact = Contact(
        channel=channel,
        address=address,
        language=language,
        opted_out=False,
        unreachable=False,
        created_at=now,
        last_seen_at=now,
        last_inbound_at=inbound_at,
    )
    return await insert_row(session, contact), True


async def conversation_of(session: AsyncSession, contact: Contact) -> Conversation | None:
    """The contact's conversation, locked for this transaction (one at a time per contact)."""
    return await load(session, Conversation, _CONVERSATION, {"contact": contact.id})
