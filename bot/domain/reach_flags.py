"""What the parent's side of a conversation after the intake tells the officer: "parent replied
(N)" until the officer marks the replies read (or answers them), and "unreachable by text"
from an officer's text that failed until a later one is delivered.

Each flag raised tells the assigned officer (or, unassigned, the duty officer) once, by the
staff notice path: the reference and a link, never the parent's words or number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.core.settings import Settings
from bot.domain import alerts, audit
from bot.domain.callbacks import OPEN_STATUSES, duty_officer
from storage.models import Callback, Contact, Enquiry, OutboxMessage, Staff

# Outbox states that say an officer's text did not reach the parent, and the one that it did.
FAILED = frozenset({"failed", "undelivered"})
OFFICER_TEXT = "officer"


async def enquiry_for_reply(session: AsyncSession, contact: Contact) -> Enquiry | None:
    """The open enquiry a message from `contact` answers: their own newest one, else the one an
    officer last texted them about (a caller texted back by SMS is another contact)."""
    own = await session.scalar(
        select(Enquiry)
        .join(Callback, Callback.enquiry_id == Enquiry.id)
        .where(Enquiry.contact_id == contact.id, Callback.status.in_(OPEN_STATUSES))
        .order_by(Enquiry.received_at.desc(), Enquiry.id.desc())
        .limit(1)
    )
    if own is not None:
        return own
    texted = await session.scalar(
        select(Enquiry)
        .join(OutboxMessage, OutboxMessage.enquiry_id == Enquiry.id)
        .join(Callback, Callback.enquiry_id == Enquiry.id)
        .where(OutboxMessage.contact_id == contact.id, OutboxMessage.kind == OFFICER_TEXT)
        .where(Callback.status.in_(OPEN_STATUSES))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return texted


async def _callback(session: AsyncSession, enquiry_id: int) -> Callback | None:
    return await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry_id))


async def _notify(
    session: AsyncSession,
    settings: Settings,
    clock: WorkingClock,
    callback: Callback,
    reference: str,
    kind: str,
    subject: str,
    lines: list[str],
    now: datetime,
) -> None:
    """The assigned officer, else the duty officer, hears in office hours (at the opening)."""
    officer = await session.get(Staff, callback.assigned_to) if callback.assigned_to else None
    if officer is None:
        officer = await duty_officer(session, clock.clock_start_day(now))
    if officer is None:
        return  # unassigned with nobody on duty: the flag on Today and the queue still shows
    message = alerts.simple(settings, subject, lines, alerts.case_link(settings, reference))
    alerts.to_staff(
        session,
        settings,
        [officer],
        kind,
        message,
        now=now,
        send_after=clock.next_opening(now),
        enquiry_id=callback.enquiry_id,
    )


async def parent_replied(
    session: AsyncSession, settings: Settings, clock: WorkingClock, enquiry: Enquiry, now: datetime
) -> int:
    """Count one more unread reply; the first unread one tells the officer. Returns the count."""
    callback = await _callback(session, enquiry.id)
    if callback is None:
        return 0
    callback.parent_replies = (callback.parent_replies or 0) + 1
    callback.replied_at = now
    if callback.parent_replies == 1:
        lines = [
            f"The parent of enquiry {enquiry.reference} wrote again after the intake.",
            "Read the reply on the case (Conversation) and mark it read there.",
        ]
        subject = f"Parent replied: {enquiry.reference}"
        await _notify(
            session,
            settings,
            clock,
            callback,
            enquiry.reference,
            "parent_replied",
            subject,
            lines,
            now,
        )
    return callback.parent_replies


def replies_read(
    session: AsyncSession, callback: Callback | None, staff: Staff, now: datetime
) -> bool:
    """The officer has read the replies (or answered the parent): the flag goes. True when
    there was something to clear."""
    if callback is None or not callback.parent_replies:
        return False
    count, callback.parent_replies = callback.parent_replies, 0
    audit.record(
        session, staff, "read replies", now, enquiry_id=callback.enquiry_id, detail=str(count)
    )
    return True


async def officer_text_status(
    session: AsyncSession,
    settings: Settings,
    clock: WorkingClock,
    row: OutboxMessage,
    status: str,
    now: datetime,
) -> None:
    """An officer's text reached a final state: failed or undelivered flags the callback
    (telling the officer once); delivered clears the flag."""
    if row.kind != OFFICER_TEXT or row.enquiry_id is None:
        return
    callback = await _callback(session, row.enquiry_id)
    if callback is None:
        return
    if status == "delivered":
        callback.text_unreachable_at = None
        return
    if status not in FAILED or callback.text_unreachable_at is not None:
        return
    callback.text_unreachable_at = now
    if callback.status not in OPEN_STATUSES:
        return
    enquiry = await session.get(Enquiry, row.enquiry_id)
    reference = enquiry.reference if enquiry else ""
    lines = [
        f"Your message to the parent of enquiry {reference} by {row.channel} was not delivered.",
        "The case is marked unreachable by text: call the parent instead.",
    ]
    subject = f"Message not delivered: {reference}"
    await _notify(session, settings, clock, callback, reference, "text_failed", subject, lines, now)


async def on_twilio_status(
    session: AsyncSession,
    settings: Settings,
    clock: WorkingClock,
    provider_id: str,
    status: str,
    now: datetime,
) -> None:
    """Twilio's status callback for one message: the officer's text it belongs to, if any."""
    row = await session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.provider_message_id == provider_id, OutboxMessage.kind == OFFICER_TEXT
        )
    )
    if row is not None:
        await officer_text_status(session, settings, clock, row, status, now)
