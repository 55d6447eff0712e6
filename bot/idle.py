"""Conversations left unfinished: fail open for a parent we can call, forget the rest.

An intake idle for `idle_hours` that already has consent and a callback number becomes an
incomplete enquiry with a callback (the parent is not lost); one without is deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.enquiries import confirmation_text, create_enquiry
from bot.router import Router
from flows.engine import DONE, Reply
from flows.intake import callback_phone
from storage import outbox
from storage.models import Contact, Conversation


async def expire_idle(router: Router, now: datetime) -> tuple[int, int]:
    """Sweep idle conversations; returns (kept as incomplete enquiries, deleted)."""
    cutoff = now - timedelta(hours=router.settings.idle_hours)
    kept = deleted = 0
    async with router.sessions() as session:
        ids = list(
            await session.scalars(select(Conversation.id).where(Conversation.updated_at < cutoff))
        )
    for conversation_id in ids:
        async with router.sessions.begin() as session:
            conversation = await session.get(Conversation, conversation_id, with_for_update=True)
            if conversation is None or conversation.updated_at >= cutoff:
                continue
            contact = await session.get(Contact, conversation.contact_id)
            assert contact is not None
            state = dict(conversation.state)
            answers = state.get("answers", {})
            if state.get("step") != DONE and answers.get("consent") and callback_phone(answers):
                enquiry = await create_enquiry(
                    session,
                    router.settings,
                    router.clock,
                    contact=contact,
                    channel=contact.channel,
                    state=state,
                    received_at=conversation.updated_at,
                    now=now,
                    incomplete=True,
                )
                kept += 1
                language = state.get("language") or "en"
                text = confirmation_text(router, enquiry, language, incomplete=True)
                if contact.channel in router.outbox_channels | {"sms", "whatsapp"}:
                    outbox.enqueue(
                        session,
                        channel=contact.channel,
                        address=contact.address,
                        kind="incomplete_notice",
                        payload=Reply(text).as_dict(),
                        now=now,
                        contact_id=contact.id,
                        enquiry_id=enquiry.id,
                    )
                await session.delete(conversation)
            elif state.get("step") == DONE:
                await session.delete(conversation)
            else:
                await router.forget(session, contact, conversation)
                deleted += 1
    return kept, deleted
