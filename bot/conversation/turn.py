"""One message through its flow: start or advance the engine, safety first, then the ending.

The router keeps the delivery path (inbox, locks, retries); this module keeps what a reply
means: a worry about a child outranks the question asked, and each ending (a language chosen,
an enquiry sent, a survey answered, stop) leaves the store as the service needs it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import safety
from bot.conversation.path import AnyFinisher, Conversations
from bot.domain.enquiries import create_enquiry
from bot.domain.records import forget, transcribe
from bot.domain.urgent import fill_in, linked_enquiry
from flows.engine import DONE, Engine, Flow, Invalid, Reply, Turn
from flows.intake import INTAKE
from flows.safeguarding import RiskMatch as RiskFound
from flows.urgent import KEPT_FOR_SAFETY
from flows.validators import known_phone
from storage.models import Contact, Conversation, InboxMessage
from storage.written import insert_row, update_row


def first_language(router: Conversations, payload: dict[str, Any]) -> str | None:
    """The language a newcomer is greeted in: the channel's hint where we have it, the only
    language a one-language service offers, else none yet (the language menu comes first)."""
    names = router.catalogs.names()
    hint = (payload.get("language_hint") or "").split("-")[0].lower()
    if hint in names:
        return hint
    return "en" if len(names) == 1 else None


def new_state(router: Conversations, contact: Contact, payload: dict[str, Any]) -> dict[str, Any]:
    """A new conversation's state: the contact's language, else `first_language`; a number
    the channel told us is kept, not asked, when it is one we could ring back (checked here,
    once a conversation, rather than on every message)."""
    language = contact.language or first_language(router, payload)
    answers: dict[str, Any] = {}
    phone = known_phone(payload["known_phone"]) if payload.get("known_phone") else None
    if phone:
        answers["known_phone"] = phone
    return {"language": language, "answers": answers, "history": []}


def _answers_the_question(engine: Engine, flow: Flow, step_key: str, text: str) -> bool:
    """A free-text answer that carries the worry ("what has happened?") is kept as the answer."""
    try:
        step = flow.step(step_key)
    except KeyError:  # the language menu, the summary, or the enquiry already sent
        return False
    return step.kind == "text" and not isinstance(engine.parse(step, text), Invalid)


async def take_turn(
    session: AsyncSession,
    router: Conversations,
    contact: Contact,
    conversation: Conversation | None,
    row: InboxMessage,
    risk: RiskFound | None,
    now: datetime,
) -> list[Reply]:
    """Run one message through the contact's conversation (starting one if needed), in the
    caller's transaction; returns the replies."""
    text = str(row.payload.get("text") or "")
    started: Turn | None = None
    if conversation is None:
        state = new_state(router, contact, row.payload)
        # Written once, with its state, when the turn ends (`_ending`): not added here.
        conversation = Conversation(
            contact_id=contact.id, flow=INTAKE.name, state=state, created_at=now, updated_at=now
        )
        started = router.engine(state).start(state)
        answering = "start"
    else:
        state = dict(conversation.state)
        answering = str(state.get("step") or "start")
    flow, finisher = router.flows.get(conversation.flow, (INTAKE, None))
    engine = router.engine(state, flow.name)
    turn: Turn | None = started
    replies: list[Reply] = []
    if risk is not None:
        if (
            started is None
            and flow is INTAKE
            and _answers_the_question(engine, flow, answering, text)
        ):
            turn = engine.advance(state, text)
            state = turn.state
        replies = await safety.on_risk(
            session, router, contact, conversation, state, row.channel, risk, answering, now
        )
        if not state.get(safety.ASKING):
            replies += turn.replies if turn is not None else [engine.reprompt(state)]
        turn = Turn(state, replies, turn.outcome if turn is not None else None)
    elif state.get(safety.ASKING):
        answered = await safety.on_safe_number(session, router, conversation, state, text)
        turn = Turn(state, answered) if answered is not None else engine.advance(state, text)
    elif turn is None:
        turn = engine.advance(state, text)
    return await _ending(session, router, contact, conversation, row, text, turn, finisher, now)


async def _ending(
    session: AsyncSession,
    router: Conversations,
    contact: Contact,
    conversation: Conversation,
    row: InboxMessage,
    text: str,
    turn: Turn,
    finisher: AnyFinisher | None,
    now: datetime,
) -> list[Reply]:
    """What the turn's outcome leaves behind: the language kept, the enquiry stored (or the
    early urgent one filled in), a finished service flow removed, or everything forgotten."""
    state, outcome, replies = turn.state, turn.outcome, list(turn.replies)
    if outcome == "language":
        contact.language = state["language"]
        replies.append(router.engine(state, conversation.flow).reprompt(state))
    elif finisher is not None and outcome in {"completed", "stopped"}:
        # A service-started flow (survey, nudge): its own ending, then the conversation goes.
        if outcome == "completed":
            replies.extend(await finisher(session, router, contact, conversation, state, now))
        await transcribe(session, contact, conversation, text, replies, now)
        await session.delete(conversation)
        return replies
    elif outcome == "completed":
        enquiry = await linked_enquiry(session, conversation)
        if enquiry is not None:  # a concern made it urgent mid-intake: now it is complete
            await fill_in(session, enquiry, state, complete=True)
            await session.refresh(enquiry, ["callback"])
        else:
            enquiry = await create_enquiry(
                session,
                router.settings,
                router.clock,
                contact=contact,
                channel=row.channel,
                state=state,
                received_at=row.received_at,
                now=now,
            )
        conversation.enquiry_id = enquiry.id
        state["step"] = DONE
        state["reference"] = enquiry.reference
        replies.append(router.confirmation(enquiry, state))
    if outcome in {"stopped", "declined"}:
        if state.get("urgent"):
            # Never a promise of secrecy: the concern is kept, and the parent is told so.
            replies = [
                Reply(safety.say(safety.engines(router, state, conversation.flow), KEPT_FOR_SAFETY))
            ]
        await forget(session, contact, conversation)
        return replies
    if state.get("language") and state["language"] != contact.language:
        contact.language = state["language"]  # only when it changed: else nothing to flush
    if inspect(conversation).transient:  # begun by this message: one INSERT with its state
        conversation.state, conversation.updated_at = state, now
        await insert_row(session, conversation)
    else:  # written even when an earlier flush (the urgent enquiry) stored this very dict
        await update_row(session, conversation, state=state, updated_at=now)
    await transcribe(session, contact, conversation, text, replies, now)
    return replies
