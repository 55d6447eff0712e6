"""The safeguarding work queue: every urgent callback, until an officer says what was done.

A concern is an urgent enquiry (made at the parent's first worrying message); staff assign it,
acknowledge it ("I have seen this") and close it with what was done. Each step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import flag_modified

from bot.core.errors import HelplineError
from bot.domain import audit
from bot.domain.callbacks import OPEN_STATUSES
from storage.models import Callback, CaseNote, Conversation, Enquiry, Staff

MAX_WHAT = 4000
HANDLED = "Safeguarding concern handled"  # the enquiry's outcome when the concern is closed


class ConcernError(HelplineError):
    """The step cannot be taken as asked; the text is shown to the officer."""


@dataclass(frozen=True)
class Concern:
    """One row of the work queue, with only what the page shows."""

    enquiry: Enquiry
    callback: Callback
    assigned: str | None
    acknowledged: str | None
    conversation_id: int | None

    def overdue(self, now: datetime) -> bool:
        return self.callback.first_attempt_at is None and self.callback.due_at < now


async def open_concerns(session: AsyncSession) -> list[Concern]:
    """Open urgent callbacks, the most overdue first."""
    assigned, acknowledged = aliased(Staff), aliased(Staff)
    rows = await session.execute(
        select(Enquiry, Callback, assigned.name, acknowledged.name, Conversation.id)
        .join(Callback, Callback.enquiry_id == Enquiry.id)
        .outerjoin(assigned, Callback.assigned_to == assigned.id)
        .outerjoin(acknowledged, Callback.acknowledged_by == acknowledged.id)
        .outerjoin(Conversation, Conversation.enquiry_id == Enquiry.id)
        .where(Callback.urgent.is_(True), Callback.status.in_(OPEN_STATUSES))
        .order_by(Callback.due_at, Callback.id)
    )
    return [Concern(*row) for row in rows.all()]


async def count_open(session: AsyncSession) -> int:
    """How many concerns wait on the work queue: every officer's queue page says so."""
    statement = select(func.count()).where(
        Callback.urgent.is_(True), Callback.status.in_(OPEN_STATUSES)
    )
    return int(await session.scalar(statement) or 0)


async def recently_handled(session: AsyncSession, since: datetime) -> list[tuple[Enquiry, str]]:
    """Concerns closed since `since`, with who closed them."""
    rows = await session.execute(
        select(Enquiry, Staff.name)
        .join(Callback, Callback.enquiry_id == Enquiry.id)
        .outerjoin(Staff, Callback.handled_by == Staff.id)
        .where(Callback.handled_at >= since)
        .order_by(Callback.handled_at.desc())
        .limit(100)
    )
    return [(enquiry, name or "—") for enquiry, name in rows.all()]


async def open_concern(session: AsyncSession, reference: str) -> tuple[Enquiry, Callback]:
    row = (
        await session.execute(
            select(Enquiry, Callback)
            .join(Callback, Callback.enquiry_id == Enquiry.id)
            .where(Enquiry.reference == reference)
            .with_for_update()
        )
    ).first()
    if row is None or not row[1].urgent:
        raise ConcernError("There is no such urgent concern.")
    if row[1].status not in OPEN_STATUSES:
        raise ConcernError("This concern has already been closed.")
    return row[0], row[1]


def acknowledge(
    session: AsyncSession, enquiry: Enquiry, callback: Callback, staff: Staff, now: datetime
) -> None:
    """ "I have seen this": the first acknowledgement stands (its time is the one that counts)."""
    if callback.acknowledged_at is None:
        callback.acknowledged_at, callback.acknowledged_by = now, staff.id
    audit.record(session, staff, "acknowledge concern", now, enquiry_id=enquiry.id)


async def handle(
    session: AsyncSession,
    enquiry: Enquiry,
    callback: Callback,
    staff: Staff,
    what: str,
    now: datetime,
) -> None:
    """Close the concern with what was done (a note on the case); the enquiry closes with it,
    and a parent still in the intake starts a new, ordinary enquiry when they finish."""
    cleaned = " ".join(what.split()) if what else ""
    if not cleaned:
        raise ConcernError("Say what was done before marking the concern handled.")
    if len(what) > MAX_WHAT:
        raise ConcernError(f"Keep it under {MAX_WHAT} characters.")
    session.add(
        CaseNote(
            enquiry_id=enquiry.id, staff_id=staff.id, text=f"{HANDLED}: {what.strip()}", at=now
        )
    )
    callback.handled_at, callback.handled_by = now, staff.id
    callback.acknowledged_at = callback.acknowledged_at or now
    callback.acknowledged_by = callback.acknowledged_by or staff.id
    callback.status, callback.closed_at = "closed", now
    enquiry.status, enquiry.outcome, enquiry.closed_at = "closed", HANDLED, now
    conversation = await session.scalar(
        select(Conversation).where(Conversation.enquiry_id == enquiry.id)
    )
    if conversation is not None and conversation.state.get("urgent"):
        conversation.state = {**conversation.state, "urgent": False}
        flag_modified(conversation, "state")
    audit.record(session, staff, "handle concern", now, enquiry_id=enquiry.id)
