"""Reaching the parent from the case: "Call" through the helpline's number, "Send a message" in
the parent's language, and each officer's own phone (rung first, never shown to parents).

Answers go to the htmx message area beside the form, as every casework action's do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.twilio import calls
from bot.domain import audit, reach, reach_flags
from bot.domain.enquiries import find_enquiry
from bot.web.dashboard.base import Dashboard
from storage.models import Contact, Enquiry, Staff

MAX_FIELD = 1000


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


async def reach_context(
    session: AsyncSession, board: Dashboard, enquiry: Enquiry, staff: Staff
) -> dict[str, Any]:
    """What the enquiry page shows in its "Reach the parent" panel."""
    services = board.services
    contact = await session.get(Contact, enquiry.contact_id) if enquiry.contact_id else None
    return {
        "call_closed": reach.call_closed(board.settings, enquiry, staff),
        "text_closed": reach.text_closed(board.settings, enquiry, contact, board.now()),
        "free_text_closed": reach.free_text_closed(contact, board.now()),
        "drafts": reach.drafts(
            board.settings, services.clock, services.catalogs, enquiry, board.now()
        ),
        "texts": await reach.sent_texts(session, enquiry),
        "text_channel": "sms"
        if contact and contact.channel == "voice"
        else getattr(contact, "channel", None),
        "voicemail_ok": bool(enquiry.voicemail_ok),
    }


def routes(board: Dashboard) -> list[Route]:
    services = board.services

    @board.guarded()
    async def call(request: Request, staff: Staff, session: AsyncSession) -> Response:
        enquiry = await find_enquiry(session, request.path_params["reference"])
        if enquiry is None:
            return board.message(request, "No such enquiry.", 404)
        await session.refresh(enquiry, ["callback"])
        try:
            await calls.start_call(
                session,
                board.settings,
                calls.twilio_client(board.settings),
                enquiry,
                staff,
                board.now(),
            )
        except reach.ReachError as exc:
            return board.message(request, str(exc))
        ending = (staff.phone or "")[-4:]
        return board.message(
            request,
            f"Ringing your phone (ending {ending}) now. Answer it and you will be connected; "
            "the parent sees the helpline's number. The attempt is logged when the call ends.",
            200,
        )

    @board.guarded()
    async def text(request: Request, staff: Staff, session: AsyncSession) -> Response:
        enquiry = await find_enquiry(session, request.path_params["reference"])
        if enquiry is None:
            return board.message(request, "No such enquiry.", 404)
        await session.refresh(enquiry, ["callback"])
        form = await request.form()
        try:
            told = await reach.send_text(
                session,
                board.settings,
                services.clock,
                services.catalogs,
                enquiry,
                staff,
                board.now(),
                key=_field(form, "message"),
                free_text=_field(form, "text"),
            )
        except (reach.ReachError, ValueError) as exc:
            return board.message(request, str(exc))
        return board.message(request, f"Message logged as an attempt. {told}", 200)

    @board.guarded()
    async def replies_read(request: Request, staff: Staff, session: AsyncSession) -> Response:
        """ "Mark as read": the officer has read what the parent wrote after the intake."""
        enquiry = await find_enquiry(session, request.path_params["reference"])
        if enquiry is None:
            return board.message(request, "No such enquiry.", 404)
        await session.refresh(enquiry, ["callback"])
        reach_flags.replies_read(session, enquiry.callback, staff, board.now())
        return board.go(request, f"/staff/enquiries/{enquiry.reference}")

    @board.guarded()
    async def my_phone(request: Request, staff: Staff, session: AsyncSession) -> Response:
        form = await request.form()
        try:
            staff.phone = reach.check_staff_phone(_field(form, "phone"))
        except reach.ReachError as exc:
            return board.message(request, str(exc))
        audit.record(session, staff, "change own phone", board.now())
        said = f"Saved: the helpline will ring {staff.phone}." if staff.phone else "Cleared."
        return board.message(request, said, 200)

    return [
        Route("/staff/enquiries/{reference}/call", call, methods=["POST"]),
        Route("/staff/enquiries/{reference}/text", text, methods=["POST"]),
        Route("/staff/enquiries/{reference}/replies-read", replies_read, methods=["POST"]),
        Route("/staff/phone", my_phone, methods=["POST"]),
    ]
