"""The SLA sweep: a reminder before a callback falls due, an escalation when it does.

Each is sent exactly once: the column (`reminded_at`, `escalated_at`) is stamped by a guarded
UPDATE in the same transaction that queues the notice, so two sweeps, or two schedulers, or a
sweep run a hundred times a minute cannot send it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.services import Services
from bot.domain.alerts import managers, render_alert, to_staff
from bot.domain.callbacks import OPEN_STATUSES
from storage.models import Callback, Enquiry, Staff


@dataclass(frozen=True)
class SweepResult:
    reminded: int = 0
    escalated: int = 0


async def _stamp(session: AsyncSession, callback_id: int, column: str, now: datetime) -> bool:
    """Claim the notice for this callback: only the sweep whose UPDATE hits the row sends it."""
    field = getattr(Callback, column)
    result = await session.execute(
        update(Callback)
        .where(Callback.id == callback_id, field.is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


async def sweep(services: Services, now: datetime) -> SweepResult:
    """Remind and escalate unanswered callbacks; nothing at all on a closed day."""
    clock, settings = services.clock, services.settings
    today = clock.local_date(now)
    if not clock.is_working_day(today):
        return SweepResult()
    lead = timedelta(hours=settings.reminder_working_hours)
    reminded = escalated = 0
    async with services.sessions.begin() as session:
        rows = (
            await session.execute(
                select(Callback, Enquiry.reference)
                .join(Enquiry, Callback.enquiry_id == Enquiry.id)
                .where(
                    Callback.status.in_(OPEN_STATUSES),
                    Callback.first_attempt_at.is_(None),
                    (Callback.reminded_at.is_(None) | Callback.escalated_at.is_(None)),
                )
                .order_by(Callback.urgent.desc(), Callback.due_at, Callback.id)
            )
        ).all()
        boss = await managers(session)
        for callback, reference in rows:
            officer = (
                await session.get(Staff, callback.assigned_to) if callback.assigned_to else None
            )
            data = {"reference": reference, "due_at": callback.due_at.isoformat()}
            if now >= callback.due_at:
                # At due_at (an open instant, or closing time on the dot); a sweep that missed
                # it, e.g. a scheduler down overnight, catches up when the office opens.
                due_day = clock.local_date(callback.due_at)
                if not (clock.is_open(now) or due_day == today):
                    continue
                if callback.escalated_at is None and await _stamp(
                    session, callback.id, "escalated_at", now
                ):
                    people = [officer, *boss] if officer else boss
                    message = render_alert("escalation", data, settings)
                    to_staff(
                        session,
                        settings,
                        people,
                        "escalation",
                        message,
                        now=now,
                        enquiry_id=callback.enquiry_id,
                    )
                    escalated += 1
                    # A reminder never follows its own escalation.
                    await _stamp(session, callback.id, "reminded_at", now)
            elif (
                callback.reminded_at is None
                and clock.is_open(now)
                and clock.working_time_between(now, callback.due_at) <= lead
                and await _stamp(session, callback.id, "reminded_at", now)
            ):
                # Unassigned: the managers hold it until someone is given it.
                people = [officer] if officer and officer.active else boss
                message = render_alert("reminder", data, settings)
                to_staff(
                    session,
                    settings,
                    people,
                    "reminder",
                    message,
                    now=now,
                    enquiry_id=callback.enquiry_id,
                )
                reminded += 1
    return SweepResult(reminded, escalated)
