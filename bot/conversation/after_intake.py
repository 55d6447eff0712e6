"""A parent writes again after their enquiry was sent (often answering an officer's text): the
message joins that enquiry's transcript, flags it "parent replied" for the officer, and the
parent is told it was added. It runs as a router intercept, after STOP/HELP/status, so an
opted-out parent stays opted out. A worry about a child in such a message is answered by the
turn, as at every step (safety numbers, "Can we call you?"), and makes this enquiry urgent.

Mid-intake, in a survey or a nudge the flow answers instead; the intake's own commands
(restart, language) still start or change things as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import safety
from bot.conversation.path import Conversations
from bot.domain import reach_flags
from flows.engine import DONE, N_, Reply
from flows.intake import INTAKE
from flows.safeguarding import find_risk
from storage.models import Callback, Contact, Conversation, Enquiry, InboxMessage, TranscriptLine

ADDED = N_("Thank you, we have added this to your enquiry {reference}; we will be in touch.")
# One acknowledgement for a burst of messages: a parent writing three lines gets one answer.
QUIET = timedelta(minutes=10)


async def replies_after_intake(
    session: AsyncSession,
    router: Conversations,
    contact: Contact,
    row: InboxMessage,
    now: datetime,
    conversation: Conversation | None = None,
    new: bool = False,
) -> list[Reply] | None:
    """Handle a message that answers an open enquiry whose intake is finished; None otherwise.
    A contact created by this very message has no enquiry: nothing to look up."""
    text = str(row.payload.get("text") or "").strip()
    if not text or new:
        return None
    if conversation is not None and (
        conversation.flow != INTAKE.name
        or conversation.state.get("step") != DONE
        or conversation.state.get(safety.ASKING)
    ):
        return None
    enquiry = await reach_flags.enquiry_for_reply(session, contact)
    if enquiry is None:
        return None
    language = enquiry.language or contact.language or "en"
    speaker = router.engine({"language": language})
    if speaker.command(text) is not None:
        return None
    callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry.id))
    last_reply = callback.replied_at if callback is not None else None
    await reach_flags.parent_replied(session, router.settings, router.clock, enquiry, now)
    if find_risk(text, language) is not None:
        # The turn answers a worry as it does at every step (numbers, "Can we call you?"), on
        # a finished conversation tied to this enquiry, so the concern lands on it.
        if conversation is None:
            state = {"language": language, "answers": {}, "history": [], "step": DONE}
            session.add(
                Conversation(
                    contact_id=contact.id,
                    flow=INTAKE.name,
                    state={**state, "reference": enquiry.reference},
                    enquiry_id=enquiry.id,
                    created_at=now,
                    updated_at=now,
                )
            )
        return None
    replies: list[Reply] = []
    if last_reply is None or now - last_reply >= QUIET:
        replies = [Reply(speaker._(ADDED).format(reference=enquiry.reference))]
    _transcribe(session, contact, enquiry, text, replies, now)
    return replies


def _transcribe(
    session: AsyncSession,
    contact: Contact,
    enquiry: Enquiry,
    text: str,
    replies: list[Reply],
    now: datetime,
) -> None:
    lines = [("in", text)] + [("out", reply.numbered()) for reply in replies]
    for direction, said in lines:
        session.add(
            TranscriptLine(
                contact_id=contact.id, enquiry_id=enquiry.id, direction=direction, text=said, at=now
            )
        )
