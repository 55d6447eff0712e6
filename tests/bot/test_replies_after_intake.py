"""A parent writes again after the enquiry was sent: the message joins that enquiry's transcript
(no second intake), the officer's "parent replied" count goes up and the officer is told once
(reference only), the parent gets one short thank-you in their language; STOP and the
safeguarding check still come first (both stores)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.conversation.after_intake import ADDED
from bot.conversation.idle import expire_idle
from bot.core.services import Services
from bot.core.settings import Settings
from bot.domain import casework
from flows.urgent import SAFETY_NUMBERS
from storage.models import (
    Callback,
    Contact,
    Conversation,
    Enquiry,
    OutboxMessage,
    RiskMatch,
    Staff,
    TranscriptLine,
)
from tests.bot.dashboard.helpers import add_staff, enquire
from tests.conftest import FakeClock, test_settings
from tests.parent import Parent, count

REPLY = "Tuesday after 3pm is best. The school rang me again today about his EHCP."


@pytest.fixture
def settings(db_url: str) -> Settings:
    return test_settings(db_url, languages=("en", "ur"), smtp_url="smtp://127.0.0.1:2525")


async def _finished(
    services: Services, channel: str = "telegram", language: str = "en"
) -> tuple[Enquiry, Parent, Staff]:
    """An enquiry sent and assigned to Amira, and the parent who sent it."""
    officer = await add_staff(services, "amira@example.org")
    enquiry = await enquire(services, channel=channel, language="en")
    async with services.sessions.begin() as session:
        callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry.id))
        contact = await session.get(Contact, enquiry.contact_id)
        found = await session.get(Enquiry, enquiry.id)
        assert callback is not None and contact is not None and found is not None
        callback.assigned_to = officer.id
        found.language = language
        address = contact.address
    return enquiry, Parent(services, channel, address), officer


async def _callback(services: Services, enquiry_id: int) -> Callback:
    async with services.sessions() as session:
        found = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry_id))
        assert found is not None
        return found


async def _transcript(services: Services, enquiry_id: int) -> list[tuple[str, str]]:
    async with services.sessions() as session:
        lines = await session.scalars(
            select(TranscriptLine)
            .where(TranscriptLine.enquiry_id == enquiry_id)
            .order_by(TranscriptLine.id)
        )
        return [(line.direction, line.text) for line in lines]


async def _notices(services: Services) -> list[OutboxMessage]:
    async with services.sessions() as session:
        statement = select(OutboxMessage).where(OutboxMessage.kind == "parent_replied")
        return list(await session.scalars(statement))


async def test_a_reply_days_later_joins_the_enquiry_and_tells_the_officer_once(
    services: Services, clock: FakeClock
) -> None:
    enquiry, parent, officer = await _finished(services)
    clock.advance(hours=services.settings.idle_hours + 1)
    await expire_idle(services.router, clock())  # the finished conversation is gone
    assert await count(services, Conversation) == 0

    replies = await parent.say(REPLY)
    thanks = ADDED.format(reference=enquiry.reference)
    assert [r.text for r in replies] == [thanks]
    assert await count(services, Enquiry) == 1  # no second intake
    assert await count(services, Conversation) == 0
    assert (await _transcript(services, enquiry.id))[-2:] == [("in", REPLY), ("out", thanks)]
    assert (await _callback(services, enquiry.id)).parent_replies == 1
    [notice] = await _notices(services)
    assert notice.channel == "email" and notice.address == officer.email
    said = f"{notice.payload['subject']} {notice.payload['text']} {notice.payload['html']}"
    assert enquiry.reference in said
    assert "school" not in said and "07700" not in said and "900123" not in said

    clock.advance(minutes=2)  # a second line straight after: counted, not thanked again
    assert await parent.say("Or Wednesday morning.") == []
    assert (await _callback(services, enquiry.id)).parent_replies == 2
    assert len(await _notices(services)) == 1

    async with services.sessions.begin() as session:  # the officer answers: the flag goes
        found = await session.get(Enquiry, enquiry.id)
        staff = await session.get(Staff, officer.id)
        assert found is not None and staff is not None
        await session.refresh(found, ["callback"])
        await casework.log_attempt(session, services.clock, found, staff, "spoke", clock())
    assert (await _callback(services, enquiry.id)).parent_replies == 0


async def test_a_reply_right_after_sending_is_thanked_in_the_parents_language(
    services: Services,
) -> None:
    enquiry, parent, _ = await _finished(services, language="ur")
    assert await count(services, Conversation) == 1  # the finished conversation is still there
    replies = await parent.say("شکریہ، میں منگل کو گھر پر ہوں")
    urdu = services.catalogs.gettext("ur")(ADDED)
    assert urdu != ADDED  # the catalog translates it
    assert [r.text for r in replies] == [urdu.format(reference=enquiry.reference)]
    assert (await _callback(services, enquiry.id)).parent_replies == 1


async def test_a_worry_in_a_later_reply_gets_the_safety_numbers_and_makes_it_urgent(
    services: Services, clock: FakeClock
) -> None:
    enquiry, parent, _ = await _finished(services)
    clock.advance(hours=services.settings.idle_hours + 1)
    await expire_idle(services.router, clock())
    replies = await parent.say("my son said he wants to kill himself")
    assert replies[0].text.startswith(SAFETY_NUMBERS.split("{")[0])
    assert "Can we call you on" in replies[-1].text
    assert await count(services, Enquiry) == 1
    async with services.sessions() as session:
        found = await session.get(Enquiry, enquiry.id)
        assert found is not None and found.urgent
        match = await session.scalar(select(RiskMatch))
        assert match is not None and match.enquiry_id == enquiry.id
        alert = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "safeguarding_alert")
        )
        assert alert is not None and alert.enquiry_id == enquiry.id
    callback = await _callback(services, enquiry.id)
    assert callback.urgent and callback.parent_replies == 1
    said = await _transcript(services, enquiry.id)
    assert ("in", "my son said he wants to kill himself") in said

    replies = await parent.say("yes")  # "Can we call you on ...?" is answered, not thanked
    assert "An officer will call you on" in replies[0].text


async def test_stop_after_the_intake_opts_out_and_is_not_a_reply(services: Services) -> None:
    enquiry, parent, _ = await _finished(services, channel="sms")
    assert await parent.say("STOP") == []  # Twilio answers STOP itself on SMS
    async with services.sessions() as session:
        contact = await session.scalar(select(Contact).where(Contact.channel == "sms"))
        assert contact is not None and contact.opted_out
    assert (await _callback(services, enquiry.id)).parent_replies == 0
    assert await _notices(services) == []
