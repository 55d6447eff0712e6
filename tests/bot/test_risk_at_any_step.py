"""Risk typed at any step of the intake, in three languages, gets a path to a human.

The safety numbers come first (in the conversation's language, or English plus the language of
the words before one is chosen), then "Can we call you?", never "Sorry, I did not understand";
the urgent callback exists at once, due within one working hour, and the text says honestly
whether the office is open.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.conversation.router import Inbound
from bot.core.services import Services
from bot.core.settings import DEFAULT_LANGUAGES, Settings
from bot.domain import casework
from bot.domain.digest import build_digest, render_digest
from flows.intake import WORDS
from flows.urgent import (
    ASK_AGAIN,
    ASK_KNOWN_PHONE,
    ASK_PHONE,
    KEPT_FOR_SAFETY,
    OFFICE_CLOSED,
    OFFICE_OPEN,
    SAFETY_NUMBERS,
    WILL_CALL,
    WILL_NOT_CALL,
)
from storage.models import Callback, Enquiry, OutboxMessage, Staff, SurveyResponse
from tests.bot.dashboard.helpers import add_staff, enquire
from tests.conftest import FakeClock, london, test_settings
from tests.parent import ANSWERS, CONFIRM, STEP_ANSWERS, Parent

WORRIES = {
    "en": "my son said he wants to kill himself",
    "pl": "Mój syn mówi, że chce się zabić",
    "ur": "میرا بیٹا خودکشی کی بات کرتا ہے",
}
# What the parent has sent before the worry: nothing, "hi" (the language menu), the language
# (consent), then each intake answer in turn, then the summary's "send" (enquiry sent).
POSITIONS = list(range(len(ANSWERS) + 4))


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Every shipped language, so the language menu is the first step."""
    return test_settings(db_url, languages=DEFAULT_LANGUAGES)


def tr(services: Services, language: str, msgid: str, **params: str) -> str:
    """The catalog's text, filled in as a parent would see it."""
    settings = services.settings
    values = {
        "children_services": settings.children_services_phone,
        "out_of_hours": settings.out_of_hours_phone,
        **params,
    }
    return services.router.catalogs.gettext(language)(msgid).format(**values)


def menu_number(services: Services, language: str) -> str:
    return str(list(services.router.catalogs.names()).index(language) + 1)


async def walk_to(services: Services, parent: Parent, language: str, position: int) -> None:
    script = ["hi", menu_number(services, language), *ANSWERS, CONFIRM]
    for text in script[:position]:
        await parent.say(text)


async def urgent_callback(services: Services) -> Callback:
    async with services.sessions() as session:
        statement = select(Callback).where(Callback.urgent.is_(True), Callback.closed_at.is_(None))
        return (await session.scalars(statement)).one()


@pytest.mark.parametrize("language", sorted(WORRIES))
async def test_risk_at_every_step_gets_safety_then_a_number_request(
    services: Services, language: str
) -> None:
    sorry = {tr(services, code, WORDS["choice_error"]) for code in ("en", language)}
    for position in POSITIONS:
        parent = Parent(services, channel="webchat", address=f"{language}-{position}")
        await walk_to(services, parent, language, position)
        replies = await parent.say(WORRIES[language])
        texts = [reply.text for reply in replies]
        where = f"{language} after {position} messages: {texts}"
        chosen = position >= 2
        speaking = [language] if chosen else list(dict.fromkeys(["en", language]))
        for i, code in enumerate(speaking):
            assert texts[i].startswith(tr(services, code, SAFETY_NUMBERS)), where
            assert tr(services, code, OFFICE_OPEN) in texts[i], where
        # Once the intake's phone question is answered, that number is offered back.
        typed = position >= 3 + list(STEP_ANSWERS).index("phone")
        ask = (
            tr(services, language, ASK_KNOWN_PHONE, known_phone="07700 900123")
            if typed
            else "\n\n".join(tr(services, code, ASK_PHONE) for code in speaking)
        )
        assert texts[-1] == ask and len(texts) == len(speaking) + 1, where
        assert not any(s in text for s in sorry for text in texts), where
        callback = await urgent_callback(services)
        assert callback.due_at == london(2026, 11, 23, 11, 0) and callback.status != "closed"
        answer = await parent.say("07700 900456")
        assert answer[0].text == "\n\n".join(
            tr(services, code, WILL_CALL, safe_phone="07700 900456") for code in speaking
        ), where
        assert len(answer) == 2 and not any(s in a.text for s in sorry for a in answer), where
        async with services.sessions() as session:
            enquiry = await session.get(Enquiry, callback.enquiry_id)
            assert enquiry is not None and enquiry.callback_phone == "+447700900456", where
            done = await session.get(Callback, callback.id)
            assert done is not None
            done.closed_at = services.now()  # one open urgent callback at a time in this walk
            await session.commit()


async def test_out_of_hours_the_reply_says_when_and_never_that_we_are_open(
    services: Services, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 27, 18, 0))  # Friday evening
    parent = Parent(services, language="pl")
    await parent.say("hi")
    replies = await parent.say(WORRIES["pl"])
    closed = tr(services, "pl", OFFICE_CLOSED, time="10:00", date="poniedziałek 30 listopada")
    assert tr(services, "pl", OFFICE_OPEN) not in replies[0].text
    assert replies[0].text.endswith("\n" + closed)
    assert (await urgent_callback(services)).due_at == london(2026, 11, 30, 10, 0)


async def test_no_number_then_the_intake_goes_on_and_completes_the_same_enquiry(
    services: Services,
) -> None:
    parent = Parent(services, language="en")
    await parent.say("hi")
    await parent.say("yes")
    await parent.say(WORRIES["en"])
    unclear = await parent.say("what do you mean")
    assert [r.text for r in unclear] == [tr(services, "en", ASK_AGAIN)]
    replies = await parent.say("no")
    assert replies[0].text.startswith(WILL_NOT_CALL.split(" You")[0])
    assert services.settings.service_phone in replies[0].text
    assert replies[1].text == tr(services, "en", "Who is asking?")
    for text in [*ANSWERS[1:], CONFIRM]:
        await parent.say(text)
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
    assert enquiry.urgent and not enquiry.incomplete and enquiry.topic == "ehc"
    assert enquiry.callback_phone == "+447700900123"  # typed later in the intake


async def test_a_safe_number_is_never_asked_twice(services: Services) -> None:
    parent = Parent(services, language="en")
    await parent.say("hi")
    for text in ANSWERS[:3]:
        await parent.say(text)
    await parent.say(WORRIES["en"])
    await parent.say("07700 900456")
    replies: list = []
    for key in list(STEP_ANSWERS)[3:]:
        if key == "phone":
            continue
        replies = await parent.say(STEP_ANSWERS[key])
        assert "What number should we call you on?" not in replies[0].text
    await parent.say(CONFIRM)
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
    assert enquiry.callback_phone == "+447700900456" and not enquiry.incomplete


async def test_by_sms_the_number_they_wrote_from_is_offered(services: Services) -> None:
    address = "+447700900777"

    async def sms(text: str) -> list[str]:
        inbound = Inbound(
            "sms", address, uuid.uuid4().hex, text, services.now(), "en", known_phone=address
        )
        return [reply.text for reply in await services.router.deliver(inbound)]

    await sms("hello")
    texts = await sms("she is not safe at home")
    assert texts[-1] == tr(services, "en", ASK_KNOWN_PHONE, known_phone="07700 900777")
    await sms("yes")
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
    assert enquiry.callback_phone == address and enquiry.urgent


async def test_stop_after_a_concern_keeps_it_and_says_so(services: Services) -> None:
    parent = Parent(services, language="ur")
    await parent.say("hi")
    await parent.say(WORRIES["ur"])
    replies = await parent.say("stop")
    assert [r.text for r in replies] == [tr(services, "ur", KEPT_FOR_SAFETY)]
    callback = await urgent_callback(services)
    assert callback.status in {"queued", "assigned"}


async def test_the_digest_counts_urgent_conversations_still_in_the_intake(
    services: Services,
) -> None:
    for n in range(4):
        parent = Parent(services, channel="webchat", language="en")
        await parent.say("hi")
        for text in ANSWERS[:n]:
            await parent.say(text)
        await parent.say(WORRIES["en"])
    digest = await build_digest(services, services.now())
    assert len(digest.urgent) == 4
    message = render_digest(digest, services.settings)
    assert message.subject.endswith(", 4 urgent") and "Urgent (safeguarding) (4)" in message.text


async def test_a_worry_in_the_survey_is_a_new_urgent_enquiry_and_the_survey_goes_on(
    services: Services, clock: FakeClock
) -> None:
    await add_staff(services, "olu@example.org")
    surveyed = await enquire(services, language="en")
    async with services.sessions.begin() as session:
        row = await session.get(Enquiry, surveyed.id)
        staff = await session.scalar(select(Staff))
        assert row is not None and staff is not None
        await session.refresh(row, ["callback"])
        outcomes = services.settings.close_outcomes
        await casework.close_case(
            session, services.router, outcomes, row, staff, outcomes[0], clock()
        )
        survey = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "survey"))
        ).one()

    async def say(text: str) -> list[str]:
        inbound = Inbound("telegram", survey.address, uuid.uuid4().hex, text, clock())
        return [reply.text for reply in await services.router.deliver(inbound)]

    texts = await say(WORRIES["en"])
    assert texts[0].startswith(tr(services, "en", SAFETY_NUMBERS))
    assert texts[-1] == tr(services, "en", ASK_KNOWN_PHONE, known_phone="07700 900123")
    await say("07700 900456")
    for text in ("4", "Knowing my rights"):
        texts = await say(text)
    assert "Thank you for your feedback" in texts[-1]
    async with services.sessions() as session:
        enquiries = {e.id: e for e in await session.scalars(select(Enquiry))}
        response = (await session.scalars(select(SurveyResponse))).one()
    [urgent] = [e for e in enquiries.values() if e.urgent]
    assert enquiries[surveyed.id].status == "closed" and not enquiries[surveyed.id].urgent
    assert urgent.callback_phone == "+447700900456" and response.enquiry_id == surveyed.id
