"""Safeguarding in the router: every text at every step is checked, recorded and alerted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.conversation.idle import expire_idle, held_for_staff
from bot.core.services import Services
from flows.engine import DONE
from storage.models import Callback, Conversation, Enquiry, OutboxMessage, RiskMatch
from tests.conftest import FakeClock, london
from tests.parent import ANSWERS, Parent

# (message, list language, category) in several of the shipped languages.
RISKS = [
    ("He said he wants to kill himself", "en", "self-harm"),
    ("Mój syn mówi, że chce się zabić", "pl", "self-harm"),
    ("Mae o'n dweud ei fod eisiau lladd ei hun", "cy", "self-harm"),
    ("میرا بیٹا خودکشی کی بات کرتا ہے", "ur", "self-harm"),
    ("he s@ys he will k1ll h i m s e l f", "en", "self-harm"),
]


async def _matches(services: Services) -> list[RiskMatch]:
    async with services.sessions() as session:
        return list(await session.scalars(select(RiskMatch).order_by(RiskMatch.id)))


async def _alerts(services: Services) -> list[OutboxMessage]:
    async with services.sessions() as session:
        statement = select(OutboxMessage).where(OutboxMessage.kind == "safeguarding_alert")
        return list(await session.scalars(statement))


@pytest.mark.parametrize("answered", [0, 1, 3, 7, 8, 13])
async def test_a_risk_phrase_at_any_step_gets_the_safety_numbers(
    services: Services, answered: int
) -> None:
    """0: the first message; 1..: after that many answers (8 = at the phone, 13 = at summary)."""
    parent = Parent(services, channel="webchat")
    if answered:
        await parent.say("hi")
    for text in ANSWERS[: answered - 1] if answered else []:
        await parent.say(text)
    replies = await parent.say(RISKS[0][0])
    assert "999" in replies[0].text and "0800 1111" in replies[0].text
    async with services.sessions() as session:
        conversation = (await session.scalars(select(Conversation))).one()
        step = conversation.state.get("step")
    assert conversation.state["urgent"] is True
    [match] = await _matches(services)
    assert (match.language, match.category, match.channel) == ("en", "self-harm", "webchat")
    assert match.phrase == "kill himself" and match.step
    assert step is not None
    assert len(await _alerts(services)) == 1


@pytest.mark.parametrize(("text", "language", "category"), RISKS)
async def test_each_language_and_disguise_is_recorded_without_the_parents_words(
    services: Services, text: str, language: str, category: str
) -> None:
    parent = Parent(services)
    await parent.say("hi")
    await parent.say("yes")
    replies = await parent.say(text)
    assert "999" in replies[0].text
    [match] = await _matches(services)
    assert (match.language, match.category, match.step) == (language, category, "asker")
    stored = " ".join(str(v) for v in vars(match).values())
    assert text not in stored


async def test_a_risk_after_the_enquiry_was_sent_makes_it_urgent(services: Services) -> None:
    parent = Parent(services)
    await parent.complete()
    replies = await parent.say("I am scared he will kill himself tonight")
    assert "999" in replies[0].text
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
        callback = (await session.scalars(select(Callback))).one()
    assert enquiry.urgent and callback.urgent
    assert callback.due_at == london(2026, 11, 23, 11, 0)
    [match] = await _matches(services)
    assert match.step == DONE and match.enquiry_id == enquiry.id
    [alert] = await _alerts(services)
    assert alert.payload["reference"] == enquiry.reference


async def test_matches_before_the_enquiry_are_linked_to_it(services: Services) -> None:
    parent = Parent(services)
    await parent.say("hi")
    for text in ANSWERS[:6]:
        await parent.say(text)
    await parent.say("he wants to kill himself")
    for text in [*ANSWERS[7:], "1"]:
        await parent.say(text)
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
    [match] = await _matches(services)
    assert match.enquiry_id == enquiry.id and match.step == "description"


async def test_the_alert_goes_at_once_in_office_hours(services: Services) -> None:
    parent = Parent(services)
    await parent.say("he wants to kill himself")
    [alert] = await _alerts(services)
    assert alert.send_after == london(2026, 11, 23, 10, 0)


async def test_out_of_hours_the_alert_waits_for_the_opening(
    services: Services, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 27, 18, 0))  # Friday evening
    parent = Parent(services)
    await parent.say("he wants to kill himself")
    [alert] = await _alerts(services)
    assert alert.send_after == london(2026, 11, 30, 9, 0)


async def test_an_idle_urgent_chat_keeps_its_one_urgent_enquiry(
    services: Services, clock: FakeClock
) -> None:
    parent = Parent(services, channel="telegram", address="4242")
    await parent.say("hi")
    await parent.say("yes")
    await parent.say("she is not safe at home")
    await parent.say("1")  # not a number: asked again, the conversation goes on
    clock.advance(hours=25)
    assert await expire_idle(services.router, clock()) == (0, 0)
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
        callback = (await session.scalars(select(Callback))).one()
        assert (await session.scalars(select(Conversation))).all() == []
    assert enquiry.urgent and enquiry.incomplete and enquiry.callback_phone is None
    assert callback.urgent and callback.due_at == london(2026, 11, 23, 11, 0)


async def test_an_older_urgent_web_chat_without_an_enquiry_is_kept_and_listed_for_staff(
    services: Services, clock: FakeClock
) -> None:
    """Conversations flagged before concerns became enquiries at once are still kept."""
    parent = Parent(services, channel="webchat")
    await parent.say("hi")
    async with services.sessions.begin() as session:
        conversation = (await session.scalars(select(Conversation))).one()
        conversation.state = {**conversation.state, "urgent": True}
    for _ in range(3):
        clock.advance(hours=25)
        assert await expire_idle(services.router, clock()) == (0, 0)
    async with services.sessions() as session:
        assert len((await session.scalars(select(Conversation))).all()) == 1
        held = await held_for_staff(session)
    assert len(held) == 1 and held[0]["channel"] == "webchat"
    # The parent comes back: the conversation simply goes on.
    replies = await parent.say("yes")
    assert replies and "999" not in replies[0].text
