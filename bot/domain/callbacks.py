"""The callback queue: references, the duty rota, and the one-working-day promise.

Every open enquiry has exactly one callback whose `due_at` comes from the working-day clock,
assigned to whoever is on duty on the working day its clock starts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.core.i18n import bcp47
from storage import outbox
from storage.models import Callback, Contact, Enquiry, RotaDay, RotaOverride, Staff

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
URGENT_DELTA = timedelta(hours=1)
NOON = time(12, 0)
WINDOWS = ("morning", "afternoon")  # the intake's "best time to call" that names a window


def new_reference(prefix: str) -> str:
    """Six characters that are easy to read over the phone (no 0/O, 1/I/L, U/V mix-ups)."""
    return prefix + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


async def unused_reference(session: AsyncSession, prefix: str) -> str:
    while True:
        reference = new_reference(prefix)
        taken = await session.scalar(select(Enquiry.id).where(Enquiry.reference == reference))
        if taken is None:
            return reference


async def duty_officer(session: AsyncSession, day: date) -> Staff | None:
    """Who takes new callbacks on `day`: a dated override first, then the weekly pattern."""
    override = await session.get(RotaOverride, day)
    if override is not None:
        staff_id = override.staff_id
    else:
        pattern = await session.get(RotaDay, day.weekday())
        staff_id = pattern.staff_id if pattern else None
    if staff_id is None:
        return None
    staff = await session.get(Staff, staff_id)
    return staff if staff is not None and staff.active else None


@dataclass(frozen=True)
class Promise:
    """When the service will call, and who will."""

    clock_started_at: datetime
    due_at: datetime
    officer: Staff | None


async def promise_for(
    session: AsyncSession,
    clock: WorkingClock,
    received_at: datetime,
    *,
    working_days: int,
    urgent: bool,
) -> Promise:
    started = clock.next_opening(received_at)
    if urgent:
        # Safeguarding: one working hour after the clock starts, whatever the target.
        due = clock.add_working_time(received_at, URGENT_DELTA)
    else:
        due = clock.due_at(received_at, working_days)
    officer = await duty_officer(session, clock.clock_start_day(received_at))
    return Promise(started, due, officer)


def window_hours(clock: WorkingClock, preferred: str) -> tuple[time, time]:
    """Morning runs from opening to noon, afternoon from noon to closing."""
    return (clock.opens, NOON) if preferred == "morning" else (NOON, clock.closes)


def call_by(clock: WorkingClock, due_at: datetime, preferred: str | None) -> datetime:
    """The promise kept inside the parent's chosen window on the day the target falls.

    Due before the window opens: the end of that day's window ("Friday afternoon, by 17:00").
    Due inside it: unchanged. Due after it closes: the end of the window, earlier than the target.
    """
    if preferred not in WINDOWS:
        return due_at
    zone = due_at.tzinfo
    local = due_at.astimezone(clock.zone)
    starts, ends = window_hours(clock, preferred)
    if starts <= local.time() <= ends:
        return due_at
    return datetime.combine(local.date(), ends, clock.zone).astimezone(zone)


async def open_callback(
    session: AsyncSession,
    enquiry: Enquiry,
    clock: WorkingClock,
    *,
    working_days: int,
    now: datetime,
    preferred_time: str | None = None,
) -> Callback:
    """Queue the callback for a new enquiry, dated by the clock and assigned by the rota."""
    promise = await promise_for(
        session, clock, enquiry.received_at, working_days=working_days, urgent=enquiry.urgent
    )
    # Safeguarding keeps its one working hour; otherwise the parent's window sets the time.
    due_at = promise.due_at if enquiry.urgent else call_by(clock, promise.due_at, preferred_time)
    callback = Callback(
        enquiry=enquiry,
        status="assigned" if promise.officer else "queued",
        urgent=enquiry.urgent,
        clock_started_at=promise.clock_started_at,
        due_at=due_at,
        assigned_to=promise.officer.id if promise.officer else None,
        preferred_time=preferred_time,
        unanswered_attempts=0,
        created_at=now,
    )
    session.add(callback)
    await session.flush()
    if promise.officer is None:
        # Nobody on duty: the managers are told (at the next opening when out of hours).
        outbox.enqueue(
            session,
            channel="staff",
            address="managers",
            kind="unassigned_alert",
            payload={"reference": enquiry.reference, "due_at": callback.due_at.isoformat()},
            now=now,
            enquiry_id=enquiry.id,
        )
    return callback


async def make_urgent(
    session: AsyncSession, enquiry: Enquiry, clock: WorkingClock, now: datetime
) -> None:
    """A safeguarding concern on an enquiry already made: its callback is due within one
    working hour of the concern (never later than it already was)."""
    enquiry.urgent = True
    callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry.id))
    if callback is not None and callback.status != "closed":
        callback.urgent = True
        callback.due_at = min(callback.due_at, clock.add_working_time(now, URGENT_DELTA))


OPEN_STATUSES = ("queued", "assigned", "attempted")


async def open_queue(session: AsyncSession, include_closed: bool = False) -> list[dict[str, Any]]:
    """The queue in due order, urgent first, as `helpline queue --json` prints it."""
    statement = (
        select(Callback, Enquiry, Staff, Contact.unreachable)
        .join(Enquiry, Callback.enquiry_id == Enquiry.id)
        .outerjoin(Staff, Callback.assigned_to == Staff.id)
        .outerjoin(Contact, Enquiry.contact_id == Contact.id)
        .order_by(Callback.urgent.desc(), Callback.due_at, Callback.id)
    )
    if not include_closed:
        statement = statement.where(Callback.status.in_(OPEN_STATUSES))
    rows = (await session.execute(statement)).all()
    return [
        {
            "reference": enquiry.reference,
            "channel": enquiry.channel,
            "language": bcp47(enquiry.language),
            "topic": enquiry.topic,
            "received_at": enquiry.received_at.isoformat(),
            "due_at": callback.due_at.isoformat(),
            "status": callback.status,
            "assigned_to": staff.email if staff else None,
            "urgent": callback.urgent,
            "interpreter": bool(enquiry.interpreter),
            "incomplete": enquiry.incomplete,
            "unreachable": bool(unreachable),  # the parent blocked the bot: ring them instead
        }
        for callback, enquiry, staff, unreachable in rows
    ]
