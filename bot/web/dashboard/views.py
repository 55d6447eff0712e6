"""Signing in and out, the enquiry page with its casework, search, and recordings.

Nothing changes on GET. Every view of an enquiry, every search and every change is audited.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.domain import audit
from bot.domain.enquiries import find_enquiry
from bot.domain.passwords import hash_password, needs_rehash, verify_password
from bot.web.dashboard.actions import DONE, FORM_OF
from bot.web.dashboard.auth import Keys, remember, throttled
from bot.web.dashboard.base import Dashboard
from bot.web.dashboard.casefile import case_file
from bot.web.dashboard.reach import reach_context
from storage.crypto import lookup_hash
from storage.models import Callback, Contact, Enquiry, Staff

MAX_FIELD = 4000
SEARCH_LIMIT = 50  # the newest matches; a phone number rarely has more


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def routes(board: Dashboard) -> list[Route]:
    services = board.services

    async def login_page(request: Request) -> Response:
        return board.render(request, "login.html", {"title": "Sign in"})

    async def login(request: Request) -> Response:
        form = await request.form()
        email, password = _field(form, "email").strip().casefold(), _field(form, "password")
        address = request.client.host if request.client else "unknown"
        keys, now = Keys.of(email, address), board.now()
        async with services.sessions.begin() as session:
            wait = await throttled(session, keys, now)
            if wait is not None:
                minutes = max(1, round(wait.total_seconds() / 60))
                text = f"Too many failed sign-ins. Try again in {minutes} minute(s)."
                return board.message(request, text, status=429)
            staff = await session.scalar(select(Staff).where(Staff.email == email))
            ok = (
                staff is not None
                and staff.active
                and bool(staff.password_hash)
                and verify_password(staff.password_hash or "", password)
            )
            await remember(session, keys, ok, now)
            if not ok or staff is None:
                return board.message(request, "That email and password do not match.", 401)
            staff.last_login_at = now
            if needs_rehash(staff.password_hash or ""):  # stronger parameters since it was set
                staff.password_hash = hash_password(password)
            audit.record(session, staff, "sign in", now)
        response = board.go(request, "/staff/today")
        board.sessions.issue(response, staff, now, now)  # a new cookie at every sign-in
        return response

    @board.guarded()
    async def logout(request: Request, staff: Staff, session: AsyncSession) -> Response:
        staff.session_version += 1  # ends this session and any other one, on any device
        audit.record(session, staff, "sign out", board.now())
        return board.go(request, "/staff/login")

    async def home(request: Request) -> Response:
        return RedirectResponse("/staff/today", status_code=303)

    @board.guarded()
    async def enquiry_page(request: Request, staff: Staff, session: AsyncSession) -> Response:

        enquiry = await find_enquiry(session, request.path_params["reference"])
        if enquiry is None:
            return board.render(request, "not_found.html", {}, staff, status=404)
        audit.record(session, staff, audit.VIEW, board.now(), enquiry_id=enquiry.id)
        context = await case_file(session, board, enquiry)
        context |= await reach_context(session, board, enquiry, staff)
        done = request.query_params.get("done", "")
        if done in DONE:  # a change just made: confirmed beside its form
            context["done"] = (FORM_OF[done], DONE[done])
        return board.render(request, "enquiry.html", context, staff)

    @board.guarded()
    async def search_page(request: Request, staff: Staff, session: AsyncSession) -> Response:
        return board.render(request, "search.html", {"title": "Search"}, staff)

    @board.guarded()
    async def search(request: Request, staff: Staff, session: AsyncSession) -> Response:
        """POST, so that a phone number never appears in a URL or a server log."""
        form = await request.form()
        found, kind = await _search(session, board, _field(form, "q").strip()[:64])
        audit.record(session, staff, audit.SEARCH, board.now(), detail=f"by {kind}")
        return board.templates.TemplateResponse(
            request, "_results.html", {"found": found, "kind": kind}
        )

    return [
        Route("/staff", home),
        Route("/staff/login", login_page, methods=["GET"]),
        Route("/staff/login", login, methods=["POST"]),
        Route("/staff/logout", logout, methods=["POST"]),
        Route("/staff/enquiries/{reference}", enquiry_page, methods=["GET"]),
        Route("/staff/search", search_page, methods=["GET"]),
        Route("/staff/search", search, methods=["POST"]),
    ]


async def _search(
    session: AsyncSession, board: Dashboard, query: str
) -> tuple[list[tuple[Enquiry, Callback | None]], str]:
    prefix = board.settings.reference_prefix
    reference = query.upper().replace(" ", "")
    if reference.startswith(prefix.upper()) or (
        len(reference) == 6 and reference.isalnum() and not reference.isdigit()
    ):
        if not reference.startswith(prefix.upper()):
            reference = prefix + reference
        statement = select(Enquiry).where(Enquiry.reference == reference)
        kind = "reference"
    else:
        try:
            number = phonenumbers.parse(query, "GB")
        except phonenumbers.NumberParseException:
            return [], "nothing recognisable"
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        # One hash for SMS, WhatsApp and voice alike: the channels store the bare number.
        number_hash = lookup_hash(e164)
        contacts = select(Contact.id).where(Contact.address_hash == number_hash)
        statement = select(Enquiry).where(
            or_(Enquiry.callback_phone_hash == number_hash, Enquiry.contact_id.in_(contacts))
        )
        kind = "phone number"
    statement = (
        statement.options(selectinload(Enquiry.callback))
        .order_by(Enquiry.received_at.desc())
        .limit(SEARCH_LIMIT)
    )
    enquiries = (await session.scalars(statement)).all()
    return [(enquiry, enquiry.callback) for enquiry in enquiries], kind
