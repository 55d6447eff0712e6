"""/staff/account: change one's own password, and set up the second factor (TOTP).

A new password must not be guessable; changing it ends every other session of the account.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain import audit, second_factor
from bot.domain.passwords import (
    MIN_LENGTH,
    WeakPassword,
    check_strength,
    hash_password,
    verify_password,
)
from bot.web.dashboard.base import Dashboard
from storage.models import Staff


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value[:1000] if isinstance(value, str) else ""


def routes(board: Dashboard) -> list[Route]:
    def page(request: Request, staff: Staff, part: bool = False, **extra: Any) -> Response:
        context = {
            "title": "Your account",
            "min_password": MIN_LENGTH,
            "enabled": second_factor.enabled(staff),
            "required": second_factor.required(staff),
            **extra,
        }
        if part:  # htmx swaps the second-factor section only
            return board.templates.TemplateResponse(request, "_second_factor.html", context)
        return board.render(request, "account.html", context, staff)

    @board.guarded()
    async def account(request: Request, staff: Staff, session: AsyncSession) -> Response:
        return page(request, staff)

    @board.guarded()
    async def change_password(request: Request, staff: Staff, session: AsyncSession) -> Response:
        form = await request.form()
        current, new = _field(form, "current"), _field(form, "new")
        if not verify_password(staff.password_hash, current):
            audit.record(session, staff, "failed password change", board.now())
            return board.message(request, "Your current password is not right.", 403)
        if new != _field(form, "again"):
            return board.message(request, "The two new passwords differ.")
        try:
            check_strength(new, about=(staff.email, staff.name))
        except WeakPassword as exc:
            text = str(exc)
            return board.message(request, text[:1].upper() + text[1:] + ".")
        staff.password_hash = hash_password(new)
        staff.session_version += 1  # other devices are signed out...
        request.state.keep_session = True  # ...this one goes on, with a fresh cookie
        audit.record(session, staff, "change password", board.now())
        return board.message(request, "Your password is changed. Other sessions are ended.", 200)

    @board.guarded()
    async def start(request: Request, staff: Staff, session: AsyncSession) -> Response:
        if second_factor.enabled(staff):
            return board.message(request, "Your second factor is already set up.")
        secret = second_factor.begin(staff)
        uri = second_factor.setup_uri(staff, board.settings.service_name)
        return page(request, staff, True, secret=secret, uri=uri)

    @board.guarded()
    async def confirm(request: Request, staff: Staff, session: AsyncSession) -> Response:
        form = await request.form()
        if second_factor.enabled(staff) or not staff.totp_secret:
            return board.message(request, "Start the set-up again.")
        if not second_factor.code_matches(staff, _field(form, "code"), board.now()):
            return board.message(request, "That code does not match: try the newest one.")
        codes = await second_factor.confirm(session, staff, board.now())
        audit.record(session, staff, "second factor on", board.now())
        return page(request, staff, True, codes=codes)

    return [
        Route("/staff/account", account, methods=["GET"]),
        Route("/staff/account/password", change_password, methods=["POST"]),
        Route("/staff/account/second-factor", start, methods=["POST"]),
        Route("/staff/account/second-factor/confirm", confirm, methods=["POST"]),
    ]
