"""`helpline rota show|set`: the weekly duty pattern and its dated overrides (leave, cover).

Whoever is on duty on the working day a contact's clock starts takes the new callback
(bot.callbacks.duty_officer); nobody on duty leaves it unassigned and the managers are told.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendar import WorkingClock
from bot.callbacks import duty_officer
from bot.cli import CommandError
from bot.services import Services
from bot.staff import find_staff, normalise_email
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
        raise CommandError(
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


async def show(services: Services, args: argparse.Namespace) -> int:
    await services.migrate()
    today = local_today(services)
    async with services.sessions() as session:
        staff = {s.id: s for s in await session.scalars(select(Staff))}
        pattern = {r.weekday: r.staff_id for r in await session.scalars(select(RotaDay))}
        overrides = {
            r.day: r.staff_id
            for r in await session.scalars(select(RotaOverride).where(RotaOverride.day >= today))
        }
        print("Weekly pattern")
        for number in sorted(services.clock.weekdays):
            print(f"  {WEEKDAYS[number].capitalize():<10} {_who(staff, pattern.get(number))}")
        print(f"Next {SHOW_DAYS} days")
        for offset in range(SHOW_DAYS):
            day = today + timedelta(days=offset)
            reason = services.clock.closed_reason(day)
            if reason:
                line = f"closed ({reason})"
            else:
                officer = await duty_officer(session, day)
                line = f"{officer.name} <{officer.email}>" if officer else "NOBODY ON DUTY"
                if day in overrides:
                    line += "  (override)"
            print(f"  {day.isoformat()} {day:%a}  {line}")
    return 0


def _who(staff: dict[int, Staff], staff_id: int | None) -> str:
    if staff_id is None or staff_id not in staff:
        return "nobody"
    person = staff[staff_id]
    return f"{person.name} <{person.email}>" + ("" if person.active else "  (DISABLED)")


async def set_day(services: Services, args: argparse.Namespace) -> int:
    day = parse_day(args.day)
    chosen = sum(bool(x) for x in (args.email, args.nobody, args.clear))
    if chosen != 1:
        raise CommandError("give exactly one of EMAIL, --nobody or --clear")
    if args.clear and not isinstance(day, date):
        raise CommandError("--clear removes a dated override; give a date such as 2026-12-24")
    email = normalise_email(args.email) if args.email else None
    today = local_today(services)
    await services.migrate()
    async with services.sessions.begin() as session:
        staff_id = (await find_staff(session, email)).id if email else None
        try:
            if args.clear:
                assert isinstance(day, date)
                await clear_override(session, day, today)
                print(f"{day.isoformat()}: back to the weekly pattern")
                return 0
            await put_on_duty(session, services.clock, day, staff_id, today)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    label = f"every {WEEKDAYS[day].capitalize()}" if isinstance(day, int) else day.isoformat()
    print(f"{label}: {email or 'nobody on duty (new callbacks stay unassigned)'}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("rota", help="the duty rota: who takes new callbacks each day")
    sub = p.add_subparsers(dest="rota_command", required=True)
    sub.add_parser("show", help="the weekly pattern and the next 14 days").set_defaults(run=show)
    s = sub.add_parser("set", help="put someone on duty on a weekday (pattern) or a date")
    s.add_argument("day", help="a weekday name (monday) or an ISO date (2026-12-24)")
    s.add_argument("email", nargs="?", default=None)
    s.add_argument("--nobody", action="store_true", help="nobody on duty that day")
    s.add_argument("--clear", action="store_true", help="drop a dated override")
    s.set_defaults(run=set_day)
