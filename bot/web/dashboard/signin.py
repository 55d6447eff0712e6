"""Signing in (password, then the second factor when the account has one) and signing out.

Every failure is audited and throttled; an unknown email takes as long as a wrong password.
Between the two steps the browser holds only a five-minute signed note of who passed the first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain import audit, second_factor
from bot.domain.passwords import hash_password, needs_rehash, verify_password
from bot.web.dashboard.auth import Keys, remember, throttled
from bot.web.dashboard.base import Dashboard
from storage.models import Staff

PENDING = "helpline_second_step"
PENDING_SECONDS = 300
MAX_FIELD = 4000


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def client_address(request: Request) -> str:
    """The connecting client: behind a proxy named in `serve --forwarded-allow-ips`, uvicorn has
    already put the forwarded client here, so throttling is per person, not per proxy."""
    return request.client.host if request.client else "unknown"


def routes(board: Dashboard) -> list[Route]:
    services = board.services
    notes = URLSafeTimedSerializer(board.secret, salt="helpline-second-factor")

    async def too_many(request: Request, session: AsyncSession, keys: Keys) -> Response | None:
        wait = await throttled(session, keys, board.now())
        if wait is None:
            return None
        minutes = max(1, round(wait.total_seconds() / 60))
        text = f"Too many failed sign-ins. Try again in {minutes} minute(s)."
        return board.message(request, text, status=429)

    def failed(session: AsyncSession, staff: Staff | None, why: str, now: datetime) -> None:
        actor = staff.email if staff else "unknown account"
        audit.record(session, staff, "failed sign-in", now, detail=why, actor=actor)

    def signed_in(request: Request, staff: Staff, now: datetime) -> Response:
        staff.last_login_at = now
        if second_factor.required(staff) and not second_factor.enabled(staff):
            target = "/staff/account"  # managers and admins set up their second factor first
        else:
            target = "/staff/today"
        response = board.go(request, target)
        board.sessions.issue(response, staff, now, now)  # a new cookie at every sign-in
        response.delete_cookie(PENDING, path="/staff/login")
        return response

    async def login_page(request: Request) -> Response:
        return board.render(request, "login.html", {"title": "Sign in"})

    async def login(request: Request) -> Response:
        form = await request.form()
        email, password = _field(form, "email").strip().casefold(), _field(form, "password")
        keys, now = Keys.of(email, client_address(request)), board.now()
        async with services.sessions.begin() as session:
            refused = await too_many(request, session, keys)
            if refused is not None:
                return refused
            staff = await session.scalar(select(Staff).where(Staff.email == email))
            usable = staff is not None and staff.active
            # Always one argon2 check, real or dummy: the answer's timing says nothing.
            ok = verify_password(staff.password_hash if usable and staff else None, password)
            await remember(session, keys, ok, now)
            if not ok or staff is None:
                failed(session, staff, "wrong password" if staff else "unknown email", now)
                return board.message(request, "That email and password do not match.", 401)
            if needs_rehash(staff.password_hash or ""):  # stronger parameters since it was set
                staff.password_hash = hash_password(password)
            if second_factor.enabled(staff):
                response = board.go(request, "/staff/login/code")
                note = notes.dumps({"sid": staff.id, "ver": staff.session_version})
                response.set_cookie(
                    PENDING,
                    note,
                    max_age=PENDING_SECONDS,
                    httponly=True,
                    secure=board.secure,
                    samesite="strict",
                    path="/staff/login",
                )
                return response
            audit.record(session, staff, "sign in", now)
            return signed_in(request, staff, now)

    async def code_page(request: Request) -> Response:
        return board.render(request, "login_code.html", {"title": "Sign in: second step"})

    async def code(request: Request) -> Response:
        form = await request.form()
        now = board.now()
        try:
            note = notes.loads(request.cookies.get(PENDING, ""), max_age=PENDING_SECONDS)
            staff_id, version = int(note["sid"]), int(note["ver"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return board.message(request, "Please sign in again.", 401)
        async with services.sessions.begin() as session:
            staff = await session.get(Staff, staff_id)
            if staff is None or not staff.active or staff.session_version != version:
                return board.message(request, "Please sign in again.", 401)
            keys = Keys.of(staff.email, client_address(request))
            refused = await too_many(request, session, keys)
            if refused is not None:
                return refused
            given = _field(form, "code").strip()[:32]
            ok = second_factor.code_matches(staff, given, now)
            how = "authenticator"
            if not ok and await second_factor.use_recovery_code(session, staff, given, now):
                ok, how = True, "recovery code"
            await remember(session, keys, ok, now)
            if not ok:
                failed(session, staff, "wrong second-factor code", now)
                return board.message(request, "That code does not match. Try the next one.", 401)
            audit.record(session, staff, "sign in", now, detail=f"with {how}")
            return signed_in(request, staff, now)

    @board.guarded()
    async def logout(request: Request, staff: Staff, session: AsyncSession) -> Response:
        staff.session_version += 1  # ends this session and any other one, on any device
        audit.record(session, staff, "sign out", board.now())
        return board.go(request, "/staff/login")

    return [
        Route("/staff/login", login_page, methods=["GET"]),
        Route("/staff/login", login, methods=["POST"]),
        Route("/staff/login/code", code_page, methods=["GET"]),
        Route("/staff/login/code", code, methods=["POST"]),
        Route("/staff/logout", logout, methods=["POST"]),
    ]
