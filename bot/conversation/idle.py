"""Conversations left unfinished: fail open for a parent we can call, forget the rest.

An intake idle for `idle_hours` that already has consent and a callback number becomes an
incomplete enquiry with a callback (the parent is not lost); one without is deleted. A
conversation flagged urgent (a child may be at risk) is never dropped: its urgent enquiry
(made at the first worrying message) keeps what else was said; an older one without an
enquiry becomes one if we can message the parent first, or is kept and listed for staff.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.router import Router
from bot.domain.enquiries import confirmation_text, create_enquiry
from bot.domain.records import forget
from bot.domain.urgent import fill_in, linked_enquiry
from flows.engine import DONE, Reply
from flows.intake import INTAKE, callback_phone
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
            if conversation.flow != INTAKE.name:
                # An unanswered survey or nudge: nothing to salvage and nothing to redact.
                await session.delete(conversation)
                continue
            contact = await session.get(Contact, conversation.contact_id)
            assert contact is not None
            state = dict(conversation.state)
            answers = state.get("answers", {})
            urgent = bool(state.get("urgent"))
            early = await linked_enquiry(session, conversation)
            if early is not None and state.get("step") != DONE:
                # A concern made it an urgent enquiry already: keep what else was said.
                await fill_in(session, early, state, complete=False)
                await session.delete(conversation)
                continue
            reachable = contact.channel in outbox.PARENT_CHANNELS
            callable_ = bool(answers.get("consent") and callback_phone(answers))
            if state.get("step") != DONE and (callable_ or (urgent and reachable)):
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
                text = confirmation_text(
                    router.catalogs, router.settings.timezone, enquiry, language, incomplete=True
                )
                if reachable:
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
            elif urgent:
                # No number and no way to write first: keep it where staff can see it.
                conversation.state = {**state, "held_for_staff": True}
            else:
                await forget(session, contact, conversation)
                deleted += 1
    return kept, deleted


async def held_for_staff(session: AsyncSession) -> list[dict[str, Any]]:
    """Urgent conversations the bot cannot close or follow up: for staff to review."""
    held = []
    for conversation in await session.scalars(select(Conversation).order_by(Conversation.id)):
        if conversation.state.get("held_for_staff"):
            contact = await session.get(Contact, conversation.contact_id)
            held.append(
                {
                    "conversation_id": conversation.id,
                    "channel": contact.channel if contact else None,
                    "step": conversation.state.get("step"),
                    "since": conversation.created_at.isoformat(),
                    "last_message_at": conversation.updated_at.isoformat(),
                }
            )
    return held
