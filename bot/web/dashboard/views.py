"""The enquiry page with its casework, and search (signing in and out: signin.py).

Nothing changes on GET. Every view of an enquiry, every search and every change is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.domain import audit, casework
from bot.domain.enquiries import find_enquiry
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

    async def home(request: Request) -> Response:
        return RedirectResponse("/staff/queue", status_code=303)

    @board.guarded()
    async def enquiry_page(request: Request, staff: Staff, session: AsyncSession) -> Response:

        enquiry = await find_enquiry(session, request.path_params["reference"])
        if enquiry is None:
            return board.render(request, "not_found.html", {}, staff, status=404)
        audit.record(session, staff, audit.VIEW, board.now(), enquiry_id=enquiry.id)
        context = await case_file(session, board, enquiry)
        context |= await reach_context(session, board, enquiry, staff)
        return board.render(request, "enquiry.html", context, staff)

    @board.guarded()
    async def act(request: Request, staff: Staff, session: AsyncSession) -> Response:
        enquiry = await find_enquiry(session, request.path_params["reference"])
        if enquiry is None:
            return board.message(request, "No such enquiry.", 404)
        await session.refresh(enquiry, ["callback"])
        form = await request.form()
        action, now, settings = request.path_params["action"], board.now(), board.settings
        note = _field(form, "note")
        try:
            if action == "attempt":
                outcome = _field(form, "outcome")
                await casework.log_attempt(
                    session, services.clock, enquiry, staff, outcome, now, note
                )
            elif action == "action":
                category = _field(form, "category")
                casework.add_action(
                    session, settings.action_categories, enquiry, staff, category, now, note
                )
            elif action == "note":
                casework.add_note(session, enquiry, staff, note, now)
            elif action == "reassign":
                officer = _field(form, "officer")
                officer_id = int(officer) if officer.isdigit() else None
                await casework.reassign(session, enquiry, staff, officer_id, now)
            elif action == "reschedule":
                when = _when(_field(form, "when"), settings.timezone)
                casework.reschedule(session, enquiry, staff, when, now)
            elif action == "recategorise":
                category = _field(form, "category")
                casework.recategorise(
                    session, settings.case_categories, enquiry, staff, category, now
                )
            elif action == "close":
                outcome = _field(form, "outcome")
                await casework.close_case(
                    session, services.router, settings.close_outcomes, enquiry, staff, outcome, now
                )
            else:
                return board.message(request, "Unknown action.", 404)
        except casework.CaseworkError as exc:  # raised before anything is changed
            return board.message(request, str(exc))
        return board.go(request, f"/staff/enquiries/{enquiry.reference}")

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
        Route("/staff/enquiries/{reference}", enquiry_page, methods=["GET"]),
        Route("/staff/enquiries/{reference}/{action}", act, methods=["POST"]),
        Route("/staff/search", search_page, methods=["GET"]),
        Route("/staff/search", search, methods=["POST"]),
    ]


def _when(text: str, timezone: str) -> datetime:
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise casework.CaseworkError("Give a date and time, such as 2026-11-24 14:30.") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(timezone))
    return local


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
