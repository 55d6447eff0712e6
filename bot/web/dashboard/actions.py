"""The enquiry page's forms: each officer action, its confirmation, and its refusal.

A refusal is answered next to the form that caused it; a change reloads the enquiry page with a
confirmation beside the same form (`?done=` names the action, never anything about the case).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain import casework
from bot.domain.enquiries import find_enquiry
from bot.web.dashboard.base import Dashboard
from storage.models import Enquiry, Staff

MAX_FIELD = 4000
# What the page says beside the form after each change.
DONE = {
    "attempt": "✔ Attempt logged.",
    "action": "✔ Action recorded.",
    "note": "✔ Note added.",
    "reassign": "✔ Callback reassigned.",
    "take": "✔ You have taken this callback.",
    "reschedule": "✔ Call-back time saved.",
    "recategorise": "✔ Category saved.",
    "close": "✔ Case closed.",
}
# The form whose message area shows each confirmation ("take" shows where reassigning does).
FORM_OF = {**{name: name for name in DONE}, "take": "reassign"}


def field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def when(text: str, timezone: str) -> datetime:
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise casework.CaseworkError("Give a date and time, such as 2026-11-24 14:30.") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(timezone))
    return local


def routes(board: Dashboard) -> list[Route]:
    services = board.services

    async def perform(
        session: AsyncSession, enquiry: Enquiry, staff: Staff, action: str, form: Any
    ) -> None:
        now, settings, note = board.now(), board.settings, field(form, "note")
        if action == "attempt":
            outcome = field(form, "outcome")
            await casework.log_attempt(session, services.clock, enquiry, staff, outcome, now, note)
        elif action == "action":
            category = field(form, "category")
            casework.add_action(
                session, settings.action_categories, enquiry, staff, category, now, note
            )
        elif action == "note":
            casework.add_note(session, enquiry, staff, note, now)
        elif action == "reassign":
            officer = field(form, "officer")
            officer_id = int(officer) if officer.isdigit() else None
            await casework.reassign(session, enquiry, staff, officer_id, now)
        elif action == "take":
            if enquiry.callback is not None and enquiry.callback.assigned_to not in (
                None,
                staff.id,
            ):
                raise casework.CaseworkError("Someone else has already taken this callback.")
            await casework.reassign(session, enquiry, staff, staff.id, now)
        elif action == "reschedule":
            moment = when(field(form, "when"), settings.timezone)
            casework.reschedule(session, enquiry, staff, moment, now)
        elif action == "recategorise":
            category = field(form, "category")
            casework.recategorise(session, settings.case_categories, enquiry, staff, category, now)
        else:  # close
            outcome = field(form, "outcome")
            await casework.close_case(
                session, services.router, settings.close_outcomes, enquiry, staff, outcome, now
            )

    @board.guarded()
    async def act(request: Request, staff: Staff, session: AsyncSession) -> Response:
        action = request.path_params["action"]
        if action not in DONE:
            return board.message(request, "Unknown action.", 404)
        enquiry = await find_enquiry(session, request.path_params["reference"])
        if enquiry is None:
            return board.message(request, "No such enquiry.", 404)
        await session.refresh(enquiry, ["callback"])
        form = await request.form()
        try:
            await perform(session, enquiry, staff, action, form)
        except casework.CaseworkError as exc:  # raised before anything is changed
            return board.message(request, str(exc))
        if form.get("back") == "today":  # assigned from the Today page: stay there
            return board.go(request, "/staff/today")
        return board.go(request, f"/staff/enquiries/{enquiry.reference}?done={action}")

    return [Route("/staff/enquiries/{reference}/{action}", act, methods=["POST"])]
