"""What a conversation leaves in the store: its transcript, a safeguarding concern, or nothing.

Kept apart from the router so every path (the router, the flood guard, the idle sweep,
retention) records and forgets in exactly the same way.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.domain.alerts import safeguarding_alert
from flows.engine import Reply
from flows.safeguarding import RiskMatch as RiskFound
from storage import inbox
from storage.models import TRANSCRIPT, Contact, Conversation, Enquiry, RiskMatch, TranscriptLine

log = logging.getLogger(__name__)


async def raise_concern(
    session: AsyncSession,
    clock: WorkingClock,
    contact: Contact,
    enquiry: Enquiry,
    channel: str,
    risk: RiskFound,
    step: str,
    now: datetime,
) -> None:
    """Record the match and tell the staff on duty about the urgent enquiry; the conversation
    goes on.

    The match is recorded (which list, which step: never the parent's words) for the
    manager to tune the lists; staff hear at once in office hours, at the opening otherwise.
    """
    session.add(
        RiskMatch(
            enquiry_id=enquiry.id,
            contact_id=contact.id,
            channel=channel,
            language=risk.language,
            category=risk.category[:32],
            phrase=risk.phrase[:128],
            step=step[:32],
            at=now,
        )
    )
    queued = await safeguarding_alert(
        session,
        clock,
        contact_id=contact.id,
        enquiry_id=enquiry.id,
        reference=enquiry.reference,
        channel=channel,
        step=step,
        now=now,
    )
    again = "" if queued else " (counted on the alert already queued)"
    log.warning("safeguarding concern raised on a %s conversation%s", channel, again)


async def forget(
    session: AsyncSession,
    contact: Contact,
    conversation: Conversation | None,
    *,
    keep_contact: bool = False,
) -> None:
    """Stop or no consent: delete the draft and what was said in it.

    `keep_contact` (an SMS opt-out) keeps the contact row, to remember not to message them;
    otherwise a contact with no enquiry goes too. Without a `conversation` in hand, whatever
    conversation the contact has is deleted."""
    await session.execute(
        delete(TranscriptLine).where(
            TranscriptLine.contact_id == contact.id, TranscriptLine.enquiry_id.is_(None)
        )
    )
    if conversation is None:
        await session.execute(delete(Conversation).where(Conversation.contact_id == contact.id))
    elif conversation.id is not None:
        await session.delete(conversation)
    has_enquiry = await session.scalar(select(Enquiry.id).where(Enquiry.contact_id == contact.id))
    drop = has_enquiry is None and not keep_contact
    await inbox.redact_address(session, contact.channel, contact.address, drop_address=drop)
    if drop:
        await session.delete(contact)


async def transcribe(
    session: AsyncSession,
    contact: Contact,
    conversation: Conversation,
    text: str,
    replies: list[Reply],
    now: datetime,
) -> None:
    """Keep what was said, so the officer never has to ask twice (one statement for the lot:
    the lines are written, never read back in this transaction)."""
    line = {"contact_id": contact.id, "enquiry_id": conversation.enquiry_id, "at": now}
    lines = [{**line, "direction": "in", "text": text}] if text else []
    lines += [{**line, "direction": "out", "text": reply.numbered()} for reply in replies]
    if lines:  # Core, on the session's connection: the ORM's bulk path costs more than SQL
        connection = await session.connection()
        await connection.execute(insert(TRANSCRIPT), lines)
