"""`helpline rota show|set`: the weekly duty pattern and its dated overrides (leave, cover)."""

from __future__ import annotations

import argparse
from datetime import date, timedelta

from sqlalchemy import select

from bot.conversation.helpline import Helpline
from bot.core.errors import HelplineError
from bot.domain.callbacks import duty_officer
from bot.domain.rota import SHOW_DAYS, WEEKDAYS, clear_override, local_today, parse_day, put_on_duty
from bot.domain.staff import (
    find_staff,
    normalise_email,
)
from storage.models import RotaDay, RotaOverride, Staff


async def show(services: Helpline, args: argparse.Namespace) -> int:
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


async def set_day(services: Helpline, args: argparse.Namespace) -> int:
    day = parse_day(args.day)
    chosen = sum(bool(x) for x in (args.email, args.nobody, args.clear))
    if chosen != 1:
        raise HelplineError("give exactly one of EMAIL, --nobody or --clear")
    if args.clear and not isinstance(day, date):
        raise HelplineError("--clear removes a dated override; give a date such as 2026-12-24")
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
            raise HelplineError(str(exc)) from None
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
