"""A child may be at risk, at any step: safety numbers, the honest callback time, a safe number.

Whatever the parent was answering (the language menu, consent, a question, or nothing after
the enquiry was sent), the reply is the same: the numbers to ring, when an officer can call
(open now, or by a stated time), then "Can we call you?" before anything else. The urgent
enquiry and its callback exist from that moment.
"""

from __future__ import annotations

from collections import ChainMap
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.path import Conversations
from bot.core.i18n import due_parts
from bot.domain.records import raise_concern
from bot.domain.urgent import keep_safe_phone, linked_enquiry, urgent_enquiry
from flows.engine import Engine, Reply
from flows.safeguarding import RiskMatch as RiskFound
from flows.urgent import (
    ASK_AGAIN,
    ASK_KNOWN_PHONE,
    ASK_PHONE,
    OFFICE_CLOSED,
    OFFICE_OPEN,
    SAFETY_NUMBERS,
    WILL_CALL,
    WILL_NOT_CALL,
    read_safe_number,
)
from flows.validators import show_phone
from storage.models import Callback, Contact, Conversation, Enquiry

ASKING = "asking_safe_phone"  # state flag: "Can we call you?" waits for its answer
SAFE_PHONE = "safe_phone"  # the number the parent gave as safe ("" when they said no)


def engines(router: Conversations, state: dict[str, Any], flow: str) -> list[Engine]:
    """The conversation's language; before one is chosen, English and the language the worrying
    words were written in."""
    if state.get("language"):
        return [router.engine(state, flow)]
    detected = state.get("risk_language")
    codes = ["en", *([detected] if detected in router.catalogs.names() else [])]
    return [router.engine({**state, "language": code}, flow) for code in dict.fromkeys(codes)]


def say(speakers: list[Engine], msgid: str, **extra: str) -> str:
    """One text in each language, a blank line between them."""
    return "\n\n".join(e.translate(msgid).format_map(ChainMap(extra, e.params)) for e in speakers)


def _known_phone(state: dict[str, Any], enquiry: Enquiry | None) -> str | None:
    """The number we could already ring: the enquiry's, or the one the parent wrote from."""
    if enquiry is not None and enquiry.callback_phone:
        return enquiry.callback_phone
    known = state.get("answers", {}).get("known_phone")
    return str(known) if known else None


async def on_risk(
    session: AsyncSession,
    router: Conversations,
    contact: Contact,
    conversation: Conversation,
    state: dict[str, Any],
    channel: str,
    risk: RiskFound,
    step: str,
    now: datetime,
) -> list[Reply]:
    """Raise the concern (urgent enquiry, match, alert) and say what happens next; asks for
    a safe number unless the parent already gave one in this conversation."""
    if not state.get("language"):
        state["risk_language"] = risk.language
    enquiry = await urgent_enquiry(
        session,
        router.settings,
        router.clock,
        contact=contact,
        conversation=conversation,
        state=state,
        channel=channel,
        language=risk.language if risk.language in router.catalogs.names() else "en",
        now=now,
    )
    await raise_concern(session, router.clock, contact, enquiry, channel, risk, step, now)
    due_at = await session.scalar(select(Callback.due_at).where(Callback.enquiry_id == enquiry.id))
    assert due_at is not None  # every open enquiry has its callback
    speakers = engines(router, state, conversation.flow)
    replies = []
    for speaker in speakers:
        if router.clock.is_open(now):
            when = speaker._(OFFICE_OPEN)
        else:
            parts = due_parts(due_at, speaker.language, router.settings.timezone)
            when = say([speaker], OFFICE_CLOSED, **parts)
        replies.append(Reply(f"{speaker._(SAFETY_NUMBERS)}\n{when}"))
    if state.get(SAFE_PHONE):
        return replies
    state[ASKING] = True
    replies.append(ask(speakers, _known_phone(state, enquiry)))
    return replies


def ask(speakers: list[Engine], known: str | None) -> Reply:
    if known:
        return Reply(say(speakers, ASK_KNOWN_PHONE, known_phone=show_phone(known)))
    return Reply(say(speakers, ASK_PHONE), request_phone=True)


async def on_safe_number(
    session: AsyncSession,
    router: Conversations,
    conversation: Conversation,
    state: dict[str, Any],
    text: str,
) -> list[Reply] | None:
    """The answer to "Can we call you?"; None when it is a command (stop, help ...) for the
    flow instead. Anything unclear asks again: never "Sorry, I did not understand"."""
    speakers = engines(router, state, conversation.flow)
    if speakers[0].command(text) is not None:
        state.pop(ASKING, None)
        return None
    enquiry = await linked_enquiry(session, conversation, state)
    known = _known_phone(state, enquiry)
    answer = read_safe_number(speakers, text, known)
    if not answer.understood:
        return [Reply(say(speakers, ASK_AGAIN), request_phone=not known)]
    state.pop(ASKING, None)
    if answer.phone is None:
        state[SAFE_PHONE] = ""
        if enquiry is not None:
            keep_safe_phone(enquiry, None)  # "no": the number we had is not a safe one
        said = say(speakers, WILL_NOT_CALL)
    else:
        state[SAFE_PHONE] = answer.phone
        if enquiry is not None:
            keep_safe_phone(enquiry, answer.phone)
        _prefill(state["answers"], answer.phone)
        said = say(speakers, WILL_CALL, safe_phone=show_phone(answer.phone))
    if state.get("step") in state["answers"]:
        # They were at the phone question itself: it is answered now, so on to the next.
        return [Reply(said), *speakers[0].start(state).replies]
    return [Reply(said), speakers[0].reprompt(state)]


def _prefill(answers: dict[str, Any], phone: str) -> None:
    """The intake never asks twice: the safe number answers its phone question."""
    if answers.get("known_phone") == phone:
        answers["use_known_phone"] = True
        answers.pop("phone", None)
        return
    if answers.get("known_phone"):
        answers["use_known_phone"] = False
    answers["phone"] = phone
