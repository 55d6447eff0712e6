"""Service-started flows (the evaluation survey, the nudge): begun by the service, not a parent.

The first messages go out through the outbox, since no inbound message is waiting for a reply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.path import Conversations
from bot.conversation.safety import ASKING
from bot.domain import contacts
from bot.domain.records import transcribe
from flows.engine import DONE, Reply
from flows.intake import INTAKE
from storage import outbox
from storage.models import Contact, Conversation


async def start_flow(
    session: AsyncSession,
    router: Conversations,
    contact: Contact,
    flow_name: str,
    state: dict[str, Any],
    now: datetime,
    enquiry_id: int | None = None,
    *,
    kind: str,
) -> list[Reply] | None:
    """Begin a service-started flow with a contact and queue its first messages (outbox rows
    of `kind`) to them; None when they are mid-intake (busy) and nothing was done."""
    existing = await contacts.conversation_of(session, contact)
    if existing is not None:
        mid_intake = existing.flow == INTAKE.name and existing.state.get("step") != DONE
        if mid_intake or existing.state.get(ASKING):  # busy, or asked for a safe number
            return None
        await session.delete(existing)
        await session.flush()
    state.setdefault("language", contact.language or "en")
    conversation = Conversation(
        contact_id=contact.id,
        flow=flow_name,
        state=state,
        enquiry_id=enquiry_id,
        created_at=now,
        updated_at=now,
    )
    session.add(conversation)
    turn = router.engine(state, flow_name).start(state)
    conversation.state = turn.state
    await session.flush()
    await transcribe(session, contact, conversation, "", turn.replies, now)
    for reply in turn.replies:
        outbox.enqueue(
            session,
            channel=contact.channel,
            address=contact.address,
            kind=kind,
            payload=reply.as_dict(),
            now=now,
            contact_id=contact.id,
            enquiry_id=enquiry_id,
        )
    return turn.replies
