"""The manager's and admin's pages: the duty rota, staff accounts, and the audit log."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain import audit, second_factor
from bot.domain.passwords import MIN_LENGTH, WeakPassword, check_strength, hash_password
from bot.domain.reach import ReachError, check_staff_phone
from bot.domain.rota import WEEKDAYS, check_on_duty, clear_override, put_on_duty
from bot.domain.staff import ROLES, check_email
from bot.web.dashboard.base import Dashboard
from storage.models import RotaDay, RotaOverride, Staff


def _staff_id(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _sentence(exc: ValueError) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + "."


def routes(board: Dashboard) -> list[Route]:
    @board.guarded()
    async def rota(request: Request, staff: Staff, session: AsyncSession) -> Response:
        today = board.services.clock.local_date(board.now())
        pattern = {r.weekday: r.staff_id for r in (await session.scalars(select(RotaDay))).all()}
        overrides = (
            await session.scalars(
                select(RotaOverride)
                .where(RotaOverride.day >= today - timedelta(days=7))
                .order_by(RotaOverride.day)
            )
        ).all()
        people = (await session.scalars(select(Staff).order_by(Staff.name))).all()
        context = {
            "title": "Duty rota",
            "weekdays": [
                (i, WEEKDAYS[i].capitalize(), pattern.get(i))
                for i in sorted(board.services.clock.weekdays)
            ],
            "today": today,
            "overrides": overrides,
            "people": people,
            "by_id": {p.id: p for p in people},
            "done": request.query_params.get("done", ""),
        }
        return board.render(request, "rota.html", context, staff)

    @board.guarded("manager")
    async def set_pattern(request: Request, staff: Staff, session: AsyncSession) -> Response:
        form = await request.form()
        clock, today = board.services.clock, board.services.clock.local_date(board.now())
        pattern = {r.weekday: r.staff_id for r in (await session.scalars(select(RotaDay))).all()}
        changes: dict[int, int | None] = {}
        for weekday in sorted(clock.weekdays):
            chosen = _staff_id(form.get(f"day{weekday}"))
            if weekday not in pattern or pattern[weekday] != chosen:
                changes[weekday] = chosen
        try:
            for weekday, chosen in changes.items():  # every day checked before any is written
                await check_on_duty(session, clock, weekday, chosen, today)
            for weekday, chosen in changes.items():
                await put_on_duty(session, clock, weekday, chosen, today)
        except ValueError as exc:
            return board.message(request, _sentence(exc))
        audit.record(session, staff, "rota pattern", board.now())
        return board.go(request, "/staff/rota?done=pattern")

    @board.guarded("manager")
    async def set_override(request: Request, staff: Staff, session: AsyncSession) -> Response:
        form = await request.form()
        try:
            day = date.fromisoformat(str(form.get("day", "")))
        except ValueError:
            return board.message(request, "Give the date as YYYY-MM-DD.")
        chosen = _staff_id(form.get("staff"))
        clock, today = board.services.clock, board.services.clock.local_date(board.now())
        try:
            if form.get("remove") == "1":
                await clear_override(session, day, today)
            else:
                await put_on_duty(session, clock, day, chosen, today)
        except ValueError as exc:
            return board.message(request, _sentence(exc))
        audit.record(session, staff, "rota override", board.now(), detail=day.isoformat())
        return board.go(request, "/staff/rota?done=override")

    @board.guarded("admin")
    async def people(request: Request, staff: Staff, session: AsyncSession) -> Response:
        everyone = (await session.scalars(select(Staff).order_by(Staff.name))).all()
        context = {
            "title": "Staff",
            "people": everyone,
            "roles": ROLES,
            "min_password": MIN_LENGTH,
        }
        return board.render(request, "staff.html", context, staff)

    @board.guarded("admin")
    async def add_person(request: Request, staff: Staff, session: AsyncSession) -> Response:
        form = await request.form()
        name, role = str(form.get("name", "")).strip()[:128], str(form.get("role", ""))
        password = str(form.get("password", ""))
        try:
            email = check_email(str(form.get("email", "")))
        except ValueError:
            email = ""
        if not email or not name or role not in ROLES:
            return board.message(request, "Give an email address, a name and a role.")
        try:
            check_strength(password, about=(email, name))
        except WeakPassword as exc:
            return board.message(request, _sentence(exc))
        taken = select(Staff.id).where(func.lower(Staff.email) == email)
        if await session.scalar(taken) is not None:
            return board.message(request, "There is already an account with that email.")
        now = board.now()
        person = Staff(
            email=email,
            name=name,
            role=role,
            password_hash=hash_password(password),
            languages="en",
            active=True,
            session_version=1,
            created_at=now,
        )
        session.add(person)
        await session.flush()
        audit.record(session, staff, "add staff", now, detail=f"staff #{person.id} as {role}")
        return board.go(request, "/staff/admin/staff")

    @board.guarded("admin")
    async def change_person(request: Request, staff: Staff, session: AsyncSession) -> Response:
        form = await request.form()
        person = await session.get(Staff, _staff_id(request.path_params["staff_id"]) or 0)
        if person is None:
            return board.message(request, "No such account.", 404)
        change = str(form.get("change", ""))
        if change == "phone":  # the number click-to-call rings first: no reason to sign out
            try:
                person.phone = check_staff_phone(str(form.get("phone", ""))[:64])
            except ReachError as exc:
                return board.message(request, str(exc))
            audit.record(
                session, staff, "change staff", board.now(), detail=f"staff #{person.id}: phone"
            )
            shown = person.phone or "none (calls through the helpline cannot ring them)"
            return board.message(
                request, f"Saved: {person.name}'s phone for calls is {shown}.", 200
            )
        if person.id == staff.id and change in {"disable", "role"}:
            return board.message(request, "Ask another admin to change your own account.")
        if change == "password":  # a reset: the person was locked out or the password leaked
            password = str(form.get("password", ""))[:1000]
            try:
                check_strength(password, about=(person.email, person.name))
            except WeakPassword as exc:
                return board.message(request, _sentence(exc))
            person.password_hash = hash_password(password)
        elif change == "second factor":  # a lost phone: they set up a new one at sign-in
            await second_factor.switch_off(session, person)
        elif change == "role" and form.get("role") in ROLES:
            person.role = str(form["role"])
        elif change == "disable":
            person.active = False
        elif change == "enable":
            person.active = True
        else:
            return board.message(request, "Unknown change.")
        person.session_version += 1  # whatever changed, their open sessions end now
        if person.id == staff.id:
            request.state.keep_session = True  # an admin resetting their own: stays signed in
        detail = f"staff #{person.id}: {change} {person.role if change == 'role' else ''}"
        audit.record(session, staff, "change staff", board.now(), detail=detail.strip())
        return board.go(request, "/staff/admin/staff")

    @board.guarded("manager")
    async def audit_page(request: Request, staff: Staff, session: AsyncSession) -> Response:
        before = _staff_id(request.query_params.get("before"))
        entries = await audit.recent(session, before_id=before)
        context = {
            "title": "Audit log",
            "entries": entries,
            "older": entries[-1].id if len(entries) == 100 else None,
        }
        return board.render(request, "audit.html", context, staff)

    return [
        Route("/staff/rota", rota, methods=["GET"]),
        Route("/staff/rota/pattern", set_pattern, methods=["POST"]),
        Route("/staff/rota/overrides", set_override, methods=["POST"]),
        Route("/staff/admin/staff", people, methods=["GET"]),
        Route("/staff/admin/staff", add_person, methods=["POST"]),
        Route("/staff/admin/staff/{staff_id}", change_person, methods=["POST"]),
        Route("/staff/audit", audit_page, methods=["GET"]),
    ]
