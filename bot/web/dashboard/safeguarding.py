"""/staff/safeguarding: every risk match and every urgent conversation not yet an enquiry.

A child may be at risk in a web chat that gave no number: the bot never closes such a
conversation, and this page is where staff find it and read what was said. Managers also use
the match counts to tune the phrase lists (locales/safeguarding/<lang>.txt).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain import audit
from bot.web.dashboard.base import Dashboard
from storage.models import Contact, Conversation, Enquiry, RiskMatch, Staff, TranscriptLine

RECENT_DAYS = 90


async def urgent_conversations(session: AsyncSession) -> list[dict[str, Any]]:
    """Conversations flagged urgent that have no enquiry yet (still talking, or held)."""
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
        context = {
            "title": "Safeguarding",
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

    return [
        Route("/staff/safeguarding", overview, methods=["GET"]),
        Route("/staff/safeguarding/conversations/{conversation_id}", conversation, methods=["GET"]),
    ]
