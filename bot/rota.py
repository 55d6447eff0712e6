"""`helpline rota show|set`: the weekly duty pattern and its dated overrides (leave, cover).

Whoever is on duty on the working day a contact's clock starts takes the new callback
(bot.callbacks.duty_officer); nobody on duty leaves it unassigned and the managers are told.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

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
    return services.now().astimezone(ZoneInfo(services.settings.timezone)).date()


def closed_reason(services: Services, day: date) -> str | None:
    if services.clock.is_working_day(day):
        return None
    if day.weekday() not in services.clock.weekdays:
        return "office closed that weekday"
    if day in services.settings.closures:
        return "closure"
    return "bank holiday"


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
            reason = closed_reason(services, day)
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
    if isinstance(day, int) and day not in services.clock.weekdays:
        raise CommandError(f"the office is closed on {WEEKDAYS[day].capitalize()}s")
    if isinstance(day, date):
        today = local_today(services)
        if day < today:
            raise CommandError(f"{day.isoformat()} is in the past")
        reason = closed_reason(services, day)
        if reason and not args.clear:
            raise CommandError(f"{day.isoformat()} is not a working day ({reason})")
    email = normalise_email(args.email) if args.email else None
    await services.migrate()
    async with services.sessions.begin() as session:
        staff_id: int | None = None
        if email:
            staff = await find_staff(session, email)
            if not staff.active:
                raise CommandError(f"{email} is disabled and cannot be put on duty")
            staff_id = staff.id
        if isinstance(day, int):
            row = await session.get(RotaDay, day)
            if row is None:
                session.add(RotaDay(weekday=day, staff_id=staff_id))
            else:
                row.staff_id = staff_id
            label = f"every {WEEKDAYS[day].capitalize()}"
        else:
            override = await session.get(RotaOverride, day)
            if args.clear:
                if override is not None:
                    await session.delete(override)
                print(f"{day.isoformat()}: back to the weekly pattern")
                return 0
            if override is None:
                session.add(RotaOverride(day=day, staff_id=staff_id))
            else:
                override.staff_id = staff_id
            label = day.isoformat()
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
