"""A child may be at risk: the urgent enquiry and its callback exist from the first such message.

Nobody waits for the intake to finish: the concern becomes an (incomplete) urgent enquiry at once,
so the queue, the digest and the SLA sweep see it; the answers given later fill it in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.core.settings import Settings
from bot.domain.callbacks import OPEN_STATUSES, make_urgent
from bot.domain.enquiries import FIELDS, create_enquiry
from flows.intake import INTAKE, callback_phone
from storage.models import Callback, Contact, Conversation, Enquiry

# A survey or nudge keeps its own enquiry link (the one surveyed): a concern raised there is
# remembered in the state instead.
URGENT_ENQUIRY = "urgent_enquiry_id"


async def _open_enquiry(
    session: AsyncSession, conversation: Conversation, state: dict[str, Any]
) -> Enquiry | None:
    """The conversation's enquiry while its callback is still open; None once it is closed."""
    enquiry_id = state.get(URGENT_ENQUIRY) or conversation.enquiry_id
    if enquiry_id is None:
        return None
    enquiry = await session.get(Enquiry, enquiry_id)
    callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry_id))
    return enquiry if callback is not None and callback.status in OPEN_STATUSES else None


async def urgent_enquiry(
    session: AsyncSession,
    settings: Settings,
    clock: WorkingClock,
    *,
    contact: Contact,
    conversation: Conversation,
    state: dict[str, Any],
    channel: str,
    language: str,
    now: datetime,
) -> Enquiry:
    """The conversation's enquiry made urgent, or a new urgent one (incomplete) when it has
    none open: its callback is due one working hour from now, assigned by the rota."""
    state["urgent"] = True
    enquiry = await _open_enquiry(session, conversation, state)
    if enquiry is not None:
        await make_urgent(session, enquiry, clock, now)
        return enquiry
    if conversation.id is None:  # begun by this very message: stored now, for its enquiry
        session.add(conversation)
        await session.flush()
    enquiry = await create_enquiry(
        session,
        settings,
        clock,
        contact=contact,
        channel=channel,
        state={**state, "language": state.get("language") or language},
        received_at=now,
        now=now,
        incomplete=True,
    )
    if conversation.flow == INTAKE.name:
        conversation.enquiry_id = enquiry.id
        return enquiry
    state[URGENT_ENQUIRY] = enquiry.id
    surveyed = (
        await session.get(Enquiry, conversation.enquiry_id) if conversation.enquiry_id else None
    )
    if surveyed is not None and surveyed.callback_phone:
        enquiry.callback_phone = surveyed.callback_phone  # offered back, never assumed safe
    return enquiry


async def linked_enquiry(
    session: AsyncSession, conversation: Conversation, state: dict[str, Any] | None = None
) -> Enquiry | None:
    """The open enquiry a concern already made for this conversation, if any."""
    return await _open_enquiry(session, conversation, state or conversation.state)


def keep_safe_phone(enquiry: Enquiry, phone: str | None) -> None:
    """The number the parent says is safe to call: the officer rings this one. None when they
    said not to call: no number is shown as safe (the transcript keeps what they wrote)."""
    enquiry.callback_phone = phone


async def fill_in(
    session: AsyncSession, enquiry: Enquiry, state: dict[str, Any], *, complete: bool
) -> None:
    """The intake's answers into the enquiry a concern created early; a number given as safe
    stays unless the parent typed one in the intake."""
    answers = dict(state.get("answers", {}))
    for name in FIELDS:
        if answers.get(name) is not None:
            setattr(enquiry, name, answers[name])
    enquiry.answers = {**(enquiry.answers or {}), **answers}
    enquiry.callback_phone = callback_phone(answers) or enquiry.callback_phone
    enquiry.language = state.get("language") or enquiry.language
    if complete:
        enquiry.incomplete = False
    callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry.id))
    if callback is not None and callback.preferred_time is None:
        callback.preferred_time = answers.get("best_time")
