"""What an officer does to a callback: log an attempt, record casework, reassign, close.

Each action changes the case and writes its audit entry in the caller's transaction. The first
attempt that reaches the parent (spoke, voicemail left, message sent) answers the SLA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.core.services import FlowStarter
from bot.domain import audit
from bot.domain.callbacks import OPEN_STATUSES
from storage import outbox
from storage.models import CallAttempt, Callback, CaseAction, CaseNote, Contact, Enquiry, Staff

OUTCOMES = {
    "spoke": "Spoke to the parent",
    "voicemail": "Voicemail left",
    "no_answer": "No answer",
    "wrong_number": "Wrong number",
    "message": "Message sent",
}
REACHED = frozenset({"spoke", "voicemail", "message"})
UNANSWERED = frozenset({"no_answer", "wrong_number"})
NO_VOICEMAIL = "The parent did not say a voicemail is safe: do not leave one."
# Channels the service can start a conversation on by itself (a web chat cannot be pushed to).
MAX_NOTE = 4000


class CaseworkError(ValueError):
    """The action cannot be done as asked; the message is shown to the officer."""


def _note(text: str | None) -> str | None:
    cleaned = (text or "").strip()
    if len(cleaned) > MAX_NOTE:
        raise CaseworkError(f"Notes are limited to {MAX_NOTE} characters.")
    return cleaned or None


def _open(callback: Callback | None) -> Callback:
    if callback is None or callback.status not in OPEN_STATUSES:
        raise CaseworkError("This callback is closed.")
    return callback


async def log_attempt(
    session: AsyncSession,
    clock: WorkingClock,
    enquiry: Enquiry,
    staff: Staff,
    outcome: str,
    now: datetime,
    note: str | None = None,
) -> CallAttempt:
    """One step: the attempt, its effect on the SLA stamps, and the audit entry."""
    if outcome not in OUTCOMES:
        raise CaseworkError("Choose what happened on the call.")
    callback = _open(enquiry.callback)
    if outcome == "voicemail" and not enquiry.voicemail_ok:
        raise CaseworkError(NO_VOICEMAIL)
    if outcome in UNANSWERED:
        # The nudge counts missed days, not missed dials: at most one per working day.
        earlier = await session.scalars(
            select(CallAttempt.at).where(
                CallAttempt.callback_id == callback.id, CallAttempt.outcome.in_(UNANSWERED)
            )
        )
        today = clock.clock_start_day(now)
        if all(clock.clock_start_day(at) != today for at in earlier):
            callback.unanswered_attempts += 1
    attempt = CallAttempt(
        callback_id=callback.id, staff_id=staff.id, outcome=outcome, note=_note(note), at=now
    )
    session.add(attempt)
    if outcome in REACHED and callback.first_attempt_at is None:
        callback.first_attempt_at = now
        callback.met_target = now <= callback.due_at
    if outcome == "spoke" and callback.first_spoke_at is None:
        callback.first_spoke_at = now
    callback.status = "attempted"
    callback.parent_replies = 0  # answering the parent deals with what they wrote
    audit.record(session, staff, "log attempt", now, enquiry_id=enquiry.id, detail=outcome)
    return attempt


def add_action(
    session: AsyncSession,
    categories: tuple[str, ...],
    enquiry: Enquiry,
    staff: Staff,
    category: str,
    now: datetime,
    note: str | None = None,
) -> CaseAction:
    if category not in categories:
        raise CaseworkError("Choose an action category from the list.")
    action = CaseAction(
        enquiry_id=enquiry.id, staff_id=staff.id, category=category, note=_note(note), at=now
    )
    session.add(action)
    audit.record(session, staff, "casework action", now, enquiry_id=enquiry.id, detail=category)
    return action


def add_note(
    session: AsyncSession, enquiry: Enquiry, staff: Staff, text: str, now: datetime
) -> CaseNote:
    cleaned = _note(text)
    if not cleaned:
        raise CaseworkError("The note is empty.")
    note = CaseNote(enquiry_id=enquiry.id, staff_id=staff.id, text=cleaned, at=now)
    session.add(note)
    audit.record(session, staff, "add note", now, enquiry_id=enquiry.id)
    return note


async def reassign(
    session: AsyncSession, enquiry: Enquiry, staff: Staff, officer_id: int | None, now: datetime
) -> None:
    callback = _open(enquiry.callback)
    if officer_id is not None:
        officer = await session.get(Staff, officer_id)
        if officer is None or not officer.active:
            raise CaseworkError("Choose an active member of staff.")
    callback.assigned_to = officer_id
    if callback.status in {"queued", "assigned"}:
        callback.status = "assigned" if officer_id else "queued"
    detail = f"to staff #{officer_id}" if officer_id else "unassigned"
    audit.record(session, staff, "reassign", now, enquiry_id=enquiry.id, detail=detail)


def reschedule(
    session: AsyncSession, enquiry: Enquiry, staff: Staff, preferred: datetime, now: datetime
) -> None:
    """Agree a time with the parent: kept as their preferred time; the SLA `due_at` never moves."""
    callback = _open(enquiry.callback)
    if preferred <= now:
        raise CaseworkError("Choose a time in the future.")
    callback.preferred_time = preferred.isoformat(timespec="minutes")
    audit.record(
        session, staff, "reschedule", now, enquiry_id=enquiry.id, detail=callback.preferred_time
    )


def recategorise(
    session: AsyncSession,
    categories: tuple[str, ...],
    enquiry: Enquiry,
    staff: Staff,
    category: str,
    now: datetime,
) -> None:
    if category not in categories:
        raise CaseworkError("Choose a category from the list.")
    before = enquiry.category or "none"
    enquiry.category = category
    audit.record(
        session, staff, "recategorise", now, enquiry_id=enquiry.id, detail=f"{before} → {category}"
    )


@dataclass(frozen=True)
class Closed:
    survey_queued: bool
    reason: str


async def close_case(
    session: AsyncSession,
    router: FlowStarter,
    outcomes: tuple[str, ...],
    enquiry: Enquiry,
    staff: Staff,
    outcome: str,
    now: datetime,
) -> Closed:
    """Close with an outcome, and send the evaluation survey when the parent agreed to contact."""
    if outcome not in outcomes:
        raise CaseworkError("Choose how the case ended.")
    callback = _open(enquiry.callback)
    enquiry.status, enquiry.outcome, enquiry.closed_at = "closed", outcome, now
    callback.status, callback.closed_at = "closed", now
    audit.record(session, staff, "close", now, enquiry_id=enquiry.id, detail=outcome)
    closed = await _send_survey(session, router, enquiry, now)
    if closed.survey_queued:
        audit.record(session, staff, "survey sent", now, enquiry_id=enquiry.id)
    return closed


async def _send_survey(
    session: AsyncSession, router: FlowStarter, enquiry: Enquiry, now: datetime
) -> Closed:
    if not enquiry.voicemail_ok:
        return Closed(False, "the parent did not agree to messages")
    contact = await session.get(Contact, enquiry.contact_id) if enquiry.contact_id else None
    if contact is None or contact.opted_out or contact.unreachable:
        return Closed(False, "the parent cannot be messaged")
    if contact.channel not in outbox.PARENT_CHANNELS:
        return Closed(False, f"the {enquiry.channel} channel cannot start a message")
    state = {"language": enquiry.language}
    replies = await router.start_flow(
        session, contact, "feedback", state, now, enquiry.id, kind="survey"
    )
    if replies is None:
        return Closed(False, "the parent is in the middle of a new enquiry")
    enquiry.survey_sent_at = now
    return Closed(True, "survey sent")
