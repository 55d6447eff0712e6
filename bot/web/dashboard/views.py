"""The enquiry page with its casework, and search (signing in and out: signin.py).

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
from bot.web.dashboard.actions import DONE, FORM_OF
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
