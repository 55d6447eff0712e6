"""`helpline rota show|set`: the weekly duty pattern and its dated overrides (leave, cover).

Whoever is on duty on the working day a contact's clock starts takes the new callback
(bot.domain.callbacks.duty_officer); nobody on duty leaves it unassigned and the managers are told.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.core.errors import HelplineError
from bot.core.services import Services
from storage.models import RotaDay, RotaOverride, Staff

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SHOW_DAYS = 14


def parse_day(raw: str) -> int | date:
    """A weekday name (the pattern, 'mon' or 'Monday') or an ISO date (an override)."""
    word = raw.strip().lower()
    for number, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.startswith(word):
            return number
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise HelplineError(
            f"{raw!r} is not a day: use a weekday name (monday) or a date (2026-12-24)"
        ) from None


def local_today(services: Services) -> date:
    return services.clock.local_date(services.now())


async def check_on_duty(
    session: AsyncSession, clock: WorkingClock, day: int | date, staff_id: int | None, today: date
) -> None:
    """Refuse, with a readable ValueError, what put_on_duty must not write."""
    if isinstance(day, int):
        if day not in clock.weekdays:
            raise ValueError(f"the office is closed on {WEEKDAYS[day].capitalize()}s")
    else:
        if day < today:
            raise ValueError(f"{day.isoformat()} is in the past")
        reason = clock.closed_reason(day)
        if reason:
            raise ValueError(f"{day.isoformat()} is not a working day ({reason})")
    if staff_id is not None:
        staff = await session.get(Staff, staff_id)
        if staff is None:
            raise ValueError(f"there is no staff member #{staff_id}")
        if not staff.active:
            raise ValueError(f"{staff.email} is disabled and cannot be put on duty")


async def put_on_duty(
    session: AsyncSession, clock: WorkingClock, day: int | date, staff_id: int | None, today: date
) -> None:
    """Put `staff_id` (None: nobody) on duty every weekday `day` (0 = Monday) or on one date.

    The one write of the rota, shared by `helpline rota set` and the dashboard.
    """
    await check_on_duty(session, clock, day, staff_id, today)
    if isinstance(day, int):
        row = await session.get(RotaDay, day)
        if row is None:
            session.add(RotaDay(weekday=day, staff_id=staff_id))
        else:
            row.staff_id = staff_id
        return
    override = await session.get(RotaOverride, day)
    if override is None:
        session.add(RotaOverride(day=day, staff_id=staff_id))
    else:
        override.staff_id = staff_id


async def clear_override(session: AsyncSession, day: date, today: date) -> None:
    """Drop a dated override (back to the weekly pattern); past days stay as they were."""
    if day < today:
        raise ValueError(f"{day.isoformat()} is in the past")
    override = await session.get(RotaOverride, day)
    if override is not None:
        await session.delete(override)
