"""The evaluation survey's finisher: its answers are kept against the enquiry it was sent for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.router import Router
from flows.engine import Reply
from flows.feedback import FEEDBACK, THANKS
from storage.models import Contact, Conversation, SurveyResponse


async def store_feedback(
    session: AsyncSession,
    router: Router,
    contact: Contact,
    conversation: Conversation,
    state: dict[str, Any],
    now: datetime,
) -> list[Reply]:
    """The finisher: keep the answers against the enquiry the survey was sent for."""
    answers = state.get("answers", {})
    enquiry_id = conversation.enquiry_id
    if enquiry_id is not None:
        session.add(
            SurveyResponse(
                enquiry_id=int(enquiry_id),
                rating=int(answers["rating"]) if answers.get("rating") else None,
                helped=answers.get("helped"),
                received_at=now,
            )
        )
    return [Reply(router.engine(state, FEEDBACK.name)._(THANKS))]
