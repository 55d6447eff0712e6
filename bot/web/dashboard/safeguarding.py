"""/staff/safeguarding: the work queue of urgent concerns, then every risk match.

Each concern (an urgent enquiry, made at the parent's first worrying message) shows its number
if known, and is assigned, acknowledged and closed with what was done, all audited. A web chat
may give no number: its conversation can be read here. Managers also use the match counts to
tune the phrase lists (locales/safeguarding/<lang>.txt).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain import audit, casework, concerns
from bot.web.dashboard.base import Dashboard
from flows.validators import show_phone
from storage.models import Contact, Conversation, Enquiry, RiskMatch, Staff, TranscriptLine

RECENT_DAYS = 90


async def urgent_conversations(session: AsyncSession) -> list[dict[str, Any]]:
    """Conversations flagged urgent that have no enquiry (flagged before concerns became
    enquiries at once): still talking, or held."""
    found = []
    statement = select(Conversation, Contact).join(Contact).where(Conversation.enquiry_id.is_(None))
    for conversation, contact in (await session.execute(statement.order_by(Conversation.id))).all():
        if conversation.state.get("urgent"):
            found.append(
                {
                    "id": conversation.id,
                    "channel": contact.channel,
                    "since": conversation.created_at,
                    "last": conversation.updated_at,
                    "held": bool(conversation.state.get("held_for_staff")),
                }
            )
    return found


def routes(board: Dashboard) -> list[Route]:
    @board.guarded()
    async def overview(request: Request, staff: Staff, session: AsyncSession) -> Response:
        since = board.now() - timedelta(days=RECENT_DAYS)
        matches = (
            await session.execute(
                select(RiskMatch, Enquiry.reference)
                .outerjoin(Enquiry, RiskMatch.enquiry_id == Enquiry.id)
                .where(RiskMatch.at >= since)
                .order_by(RiskMatch.at.desc())
                .limit(200)
            )
        ).all()
        counts = (
            await session.execute(
                select(RiskMatch.language, RiskMatch.category, func.count())
                .where(RiskMatch.at >= since)
                .group_by(RiskMatch.language, RiskMatch.category)
                .order_by(func.count().desc())
            )
        ).all()
        audit.record(session, staff, "view safeguarding", board.now())
        active = await session.scalars(select(Staff).where(Staff.active).order_by(Staff.name))
        context = {
            "title": "Safeguarding",
            "now": board.now(),
            "concerns": await concerns.open_concerns(session),
            "handled": await concerns.recently_handled(session, since),
            "officers": list(active),
            "show_phone": show_phone,
            "matches": matches,
            "counts": counts,
            "conversations": await urgent_conversations(session),
            "days": RECENT_DAYS,
        }
        return board.render(request, "safeguarding.html", context, staff)

    @board.guarded()
    async def conversation(request: Request, staff: Staff, session: AsyncSession) -> Response:
        try:
            found = await session.get(Conversation, int(request.path_params["conversation_id"]))
        except ValueError:
            found = None
        if found is None or not found.state.get("urgent"):
            return Response("This conversation is not here any more.", status_code=404)
        lines = await session.scalars(
            select(TranscriptLine)
            .where(TranscriptLine.contact_id == found.contact_id)
            .order_by(TranscriptLine.at, TranscriptLine.id)
        )
        contact = await session.get(Contact, found.contact_id)
        # Audited against its enquiry (or the contact's latest), so the case's record shows it.
        enquiry_id = found.enquiry_id or await session.scalar(
            select(Enquiry.id)
            .where(Enquiry.contact_id == found.contact_id)
            .order_by(Enquiry.id.desc())
            .limit(1)
        )
        audit.record(
            session,
            staff,
            "view urgent conversation",
            board.now(),
            enquiry_id=enquiry_id,
            detail=f"#{found.id}",
        )
        context = {
            "title": f"Urgent conversation #{found.id}",
            "conversation": found,
            "channel": contact.channel if contact else "",
            "lines": list(lines),
        }
        response = board.render(request, "urgent_conversation.html", context, staff)
        response.headers["Cache-Control"] = "no-store"
        return response

    @board.guarded()
    async def act(request: Request, staff: Staff, session: AsyncSession) -> Response:
        """assign / acknowledge / handled, each audited; back to the queue when done."""
        form, now = await request.form(), board.now()
        step = request.path_params["step"]
        try:
            enquiry, callback = await concerns.open_concern(
                session, request.path_params["reference"]
            )
            if step == "acknowledge":
                concerns.acknowledge(session, enquiry, callback, staff, now)
            elif step == "handled":
                what = form.get("what")
                await concerns.handle(session, enquiry, callback, staff, str(what or ""), now)
            elif step == "assign":
                officer = str(form.get("officer") or "")
                await session.refresh(enquiry, ["callback"])
                await casework.reassign(
                    session, enquiry, staff, int(officer) if officer.isdigit() else None, now
                )
            else:
                return board.message(request, "Unknown step.", 404)
        except (concerns.ConcernError, casework.CaseworkError) as exc:
            return board.message(request, str(exc))
        return board.go(request, "/staff/safeguarding")

    return [
        Route("/staff/safeguarding", overview, methods=["GET"]),
        Route("/staff/safeguarding/concerns/{reference}/{step}", act, methods=["POST"]),
        Route("/staff/safeguarding/conversations/{conversation_id}", conversation, methods=["GET"]),
    ]
