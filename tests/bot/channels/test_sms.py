"""SMS and WhatsApp over Twilio's real webhook format and signatures, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from bot.channels.twilio.segments import segment_count
from bot.conversation.router import Inbound
from bot.core.services import Services
from bot.domain.callbacks import open_queue
from bot.web.messaging import Messaging
from flows.validators import known_phone
from storage import outbox
from storage.crypto import lookup_hash
from storage.models import Contact, Conversation, Enquiry, InboxMessage
from tests.bot.channels.conftest import (
    PUBLIC_URL,
    SERVICE_NUMBER,
    WHATSAPP_NUMBER,
    count_rows,
    drain,
    messages,
    outbox_rows,
    post_twilio,
)
from tests.conftest import FakeClock
from tests.fakes.twilio_api import (
    FakeTwilio,
    message_status_form,
    new_sid,
    sms_form,
    whatsapp_form,
)

PARENT = "+447700900123"
# The intake over SMS: the sender's number is offered, so "yes" replaces typing one.
SMS_ANSWERS = [
    "yes",
    "1",
    "2",
    "2",
    "Year 4",
    "2",
    "The school says they cannot meet his needs. " * 8,
    "yes",
    "1",
    "yes",
    "no",
    "1",
    "5",
    "1",
]


class Texter:
    """A parent with a phone: every text gets a fresh MessageSid, signed like Twilio does."""

    def __init__(self, client: httpx.AsyncClient, tw: FakeTwilio, whatsapp: bool = False):
        self.client, self.tw, self.whatsapp = client, tw, whatsapp

    def form(self, body: str, sid: str | None = None) -> dict[str, str]:
        sid = sid or new_sid("SM")
        if self.whatsapp:
            return whatsapp_form(sid, PARENT, WHATSAPP_NUMBER, body, self.tw.account_sid)
        return sms_form(sid, PARENT, SERVICE_NUMBER, body, self.tw.account_sid)

    async def send(self, body: str, sid: str | None = None) -> list[str]:
        form = self.form(body, sid)
        response = await post_twilio(self.client, "/twilio/sms", form, self.tw.auth_token)
        return messages(response)


def assert_sms_sized(texts: list[str]) -> None:
    for text in texts:
        assert segment_count(text) <= 2, text


async def test_a_whole_intake_over_sms(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    parent = Texter(client, tw)
    first = await parent.send("Hello")
    assert "Welcome to" in first[0]
    assert first[-1].endswith("Reply 1 or 2.")
    assert_sms_sized(first)
    seen: list[str] = []
    replies: list[str] = []
    for answer in SMS_ANSWERS:
        replies = await parent.send(answer)
        assert replies, answer
        assert_sms_sized(replies)
        seen += replies
    assert any("Shall we call you on 07700 900123?" in text for text in seen)
    assert any("Reply with a number from 1 to 9." in text for text in seen)
    summary = [text for text in seen if "Please check your answers" in text]
    assert summary and "•" not in summary[0]  # GSM-7 dashes, not UCS-2 bullets
    assert "Your reference is PP-" in replies[-1]
    async with channel_services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
        contact = (await session.scalars(select(Contact))).one()
    assert enquiry.channel == "sms"
    assert enquiry.callback_phone == PARENT
    assert contact.last_inbound_at is not None
    async with channel_services.sessions() as session:
        queue = await open_queue(session)
    assert queue[0]["channel"] == "sms"
    assert tw.sent_messages() == []  # replies rode back in the TwiML
    assert [r for r in await outbox_rows(channel_services) if r.channel == "sms"] == []


async def test_a_whole_intake_over_whatsapp(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    parent = Texter(client, tw, whatsapp=True)
    await parent.send("Hi")
    replies: list[str] = []
    for answer in SMS_ANSWERS:
        replies = await parent.send(answer)
    assert "Your reference is PP-" in replies[-1]
    async with channel_services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
        contact = (await session.scalars(select(Contact))).one()
        queue = await open_queue(session)
    assert (enquiry.channel, contact.channel, contact.address) == ("whatsapp", "whatsapp", PARENT)
    assert enquiry.callback_phone == PARENT
    assert queue[0]["channel"] == "whatsapp"


async def test_forged_unsigned_and_resigned_requests_write_nothing(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    before = await count_rows(channel_services)
    form = sms_form(new_sid("SM"), PARENT, SERVICE_NUMBER, "Hello", tw.account_sid)
    unsigned = await client.post("/twilio/sms", data=form)
    forged = await post_twilio(client, "/twilio/sms", form, "0" * 32)
    other_url = await post_twilio(
        client, "/twilio/sms", form, tw.auth_token, signed_url="https://evil.example/twilio/sms"
    )
    internal = await post_twilio(
        client, "/twilio/sms", form, tw.auth_token, signed_url="http://10.0.0.5:8080/twilio/sms"
    )
    signed = post_twilio(client, "/twilio/sms", form, tw.auth_token)
    tampered_form = {**form, "Body": "something else"}
    tampered = await client.post(
        "/twilio/sms",
        data=tampered_form,
        headers=(await _headers_for(form, tw.auth_token)),
    )
    status = await post_twilio(
        client,
        "/twilio/status",
        message_status_form(new_sid("SM"), "delivered", SERVICE_NUMBER, PARENT),
        "0" * 32,
    )
    for response in (unsigned, forged, other_url, internal, tampered, status):
        assert response.status_code == 403
    assert await count_rows(channel_services) == before
    assert (await signed).status_code == 200  # the same form, properly signed, is taken


async def _headers_for(form: dict[str, str], token: str) -> dict[str, str]:
    from tests.fakes.twilio_api import signed_post_headers

    return signed_post_headers(PUBLIC_URL + "/twilio/sms", form, token)


async def test_a_repeated_message_sid_does_nothing_more_and_gets_the_same_replies(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    parent = Texter(client, tw)
    await parent.send("Hello")
    sid = new_sid("SM")
    first = await parent.send("yes", sid)
    again = await parent.send("yes", sid)
    assert first and again == first  # the first answer may never have reached Twilio
    concurrent_sid = new_sid("SM")
    answers = await asyncio.gather(*(parent.send("1", concurrent_sid) for _ in range(5)))
    assert answers[0] and all(a == answers[0] for a in answers)
    async with channel_services.sessions() as session:
        rows = list(await session.scalars(select(InboxMessage)))
    assert len(rows) == 3


async def test_a_retry_after_a_crash_gets_the_replies_the_first_delivery_never_sent(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    parent = Texter(client, tw)
    await parent.send("Hello")
    router = channel_services.router

    async def committed_then_died(text: str) -> str:
        """The webhook committed the message, then the process died before answering Twilio."""
        sid = new_sid("SM")
        message = Inbound("sms", PARENT, sid, text, channel_services.now(), known_phone(PARENT))
        assert await router.record(message) is not None
        return sid

    never_processed = await committed_then_died("yes")
    first = await parent.send("yes", never_processed)  # processed now, at the retry
    assert first[-1].endswith("Reply 1, 2 or 3.")  # who is asking?
    recovered = await committed_then_died("1")
    assert await router.recover() == 1  # the restart processed it; Twilio retries after
    second = await parent.send("1", recovered)
    assert second[-1].endswith("Reply with a number from 1 to 9.")  # the topic
    assert await parent.send("1", recovered) == second
    async with channel_services.sessions() as session:
        assert len(list(await session.scalars(select(InboxMessage)))) == 3


async def test_duplicate_final_answers_make_one_enquiry(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    parent = Texter(client, tw)
    await parent.send("Hello")
    for answer in SMS_ANSWERS[:-1]:
        await parent.send(answer)
    sid = new_sid("SM")
    answers = await asyncio.gather(*(parent.send("1", sid) for _ in range(4)))
    confirmations = [text for answer in answers for text in answer if "reference" in text]
    assert len(confirmations) == 4 and len(set(confirmations)) == 1  # one enquiry, told 4 times
    async with channel_services.sessions() as session:
        assert len(list(await session.scalars(select(Enquiry)))) == 1


async def _service_message(services: Services, channel: str, text: str) -> None:
    async with services.sessions.begin() as session:
        contact = await session.scalar(
            select(Contact).where(
                Contact.channel == channel, Contact.address_hash == lookup_hash(PARENT)
            )
        )
        outbox.enqueue(
            session,
            channel=channel,
            address=PARENT,
            kind="survey",
            payload={"text": text, "choices": ["Yes", "No"], "request_phone": False},
            now=services.now(),
            contact_id=contact.id if contact else None,
        )


async def test_stop_then_a_service_message_sends_nothing_until_start(
    client: httpx.AsyncClient,
    tw: FakeTwilio,
    channel_services: Services,
    messaging: Messaging,
    clock: FakeClock,
) -> None:
    parent = Texter(client, tw)
    await parent.send("Hello")
    await parent.send("yes")
    assert await parent.send("Stop") == []  # Twilio itself confirms STOP on a long code
    async with channel_services.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
        assert contact.opted_out
        assert (await session.scalars(select(InboxMessage.payload))).all() == [
            {"redacted": True}
        ] * 3
    assert await parent.send("hello again") == []
    await _service_message(channel_services, "sms", "How did we do?")
    await drain(messaging, clock)
    assert tw.sent_messages() == []
    assert [r.status for r in await outbox_rows(channel_services)] == ["suppressed"]

    welcome = await parent.send("START")
    assert "Welcome to" in welcome[0]
    await _service_message(channel_services, "sms", "How did we do?")
    await drain(messaging, clock)
    sent = tw.sent_messages()
    assert len(sent) == 1
    params = sent[0]["params"]
    assert params["To"] == PARENT and params["From"] == SERVICE_NUMBER
    assert params["Body"].startswith("How did we do?\n1. Yes\n2. No")
    assert params["StatusCallback"] == PUBLIC_URL + "/twilio/status"
    row = (await outbox_rows(channel_services))[-1]
    assert (row.status, row.provider_message_id) == ("sent", sent[0]["sid"])

    status = message_status_form(sent[0]["sid"], "delivered", SERVICE_NUMBER, PARENT)
    response = await post_twilio(client, "/twilio/status", status, tw.auth_token)
    assert response.status_code == 204
    assert (await outbox_rows(channel_services))[-1].status == "delivered"


async def test_whatsapp_stop_is_confirmed_and_help_names_the_service(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    parent = Texter(client, tw, whatsapp=True)
    await parent.send("Hello")
    helped = await parent.send("HELP")
    assert channel_services.settings.service_name in helped[0]
    assert channel_services.settings.service_phone in helped[0]
    assert "09:00" in helped[0] and "17:00" in helped[0]
    assert "Welcome to" in helped[1]  # and the question they were on, again
    stopped = await parent.send("unsubscribe")
    assert "Send START" in stopped[0]
    assert "Send START" in (await parent.send("are you there?"))[0]


async def test_twilio_refusing_an_unsubscribed_number_opts_the_contact_out(
    client: httpx.AsyncClient,
    tw: FakeTwilio,
    channel_services: Services,
    messaging: Messaging,
    clock: FakeClock,
) -> None:
    await Texter(client, tw).send("Hello")
    await _service_message(channel_services, "sms", "A reminder")
    tw.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    await drain(messaging, clock)
    assert [r.status for r in await outbox_rows(channel_services)] == ["suppressed"]
    async with channel_services.sessions() as session:
        assert (await session.scalars(select(Contact.opted_out))).one() is True


async def test_whatsapp_outside_the_24_hour_window_uses_the_template_or_sms(
    client: httpx.AsyncClient,
    tw: FakeTwilio,
    channel_services: Services,
    messaging: Messaging,
    clock: FakeClock,
) -> None:
    await Texter(client, tw, whatsapp=True).send("Hello")
    await _service_message(channel_services, "whatsapp", "Inside the window")
    await drain(messaging, clock)
    clock.advance(hours=25)
    await _service_message(channel_services, "whatsapp", "Outside, as SMS")
    await drain(messaging, clock)
    messaging.dispatcher.senders["whatsapp"].settings = channel_services.settings.__class__(  # type: ignore[attr-defined]
        **{
            **channel_services.settings.__dict__,
            "twilio_whatsapp_template_sid": "HX" + "a" * 32,
        }
    )
    await _service_message(channel_services, "whatsapp", "Outside, by template")
    await drain(messaging, clock)
    inside, fallback, template = (m["params"] for m in tw.sent_messages())
    assert inside["To"] == f"whatsapp:{PARENT}" and inside["From"] == f"whatsapp:{WHATSAPP_NUMBER}"
    assert inside["Body"].startswith("Inside the window")
    assert fallback["To"] == PARENT and fallback["From"] == SERVICE_NUMBER
    assert template["To"] == f"whatsapp:{PARENT}" and template["ContentSid"].startswith("HX")
    assert "Outside, by template" in template["ContentVariables"]
    assert "Body" not in template


async def test_a_long_reply_is_cut_between_words_into_two_segment_messages(
    client: httpx.AsyncClient, tw: FakeTwilio
) -> None:
    parent = Texter(client, tw)
    await parent.send("Hello")
    for answer in SMS_ANSWERS[:6]:
        await parent.send(answer)
    long_story = " ".join(f"word{n}" for n in range(240))
    replies = await parent.send(long_story)  # the next question
    for answer in SMS_ANSWERS[7:-1]:
        replies = await parent.send(answer)
    assert len(replies) > 2
    assert_sms_sized(replies)
    words = " ".join(replies).split()
    assert [w for w in words if w.startswith("word")] == [f"word{n}" for n in range(240)]


async def test_status_callbacks_for_unknown_messages_are_ignored(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    before = await count_rows(channel_services)
    form = message_status_form(new_sid("SM"), "failed", SERVICE_NUMBER, PARENT, error_code=30003)
    response = await post_twilio(client, "/twilio/status", form, tw.auth_token)
    assert response.status_code == 204
    assert await count_rows(channel_services) == before


async def test_bad_input_gets_a_4xx_not_a_500(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    empty: dict[str, str] = {"Body": "hello"}
    response = await post_twilio(client, "/twilio/sms", empty, tw.auth_token)
    assert response.status_code == 400
    garbage = await client.post("/twilio/sms", content=b"\xff\xfe")
    assert garbage.status_code == 403
    assert (await count_rows(channel_services))["inbox"] == 0


async def _close_case(services: Services) -> bool:
    from bot.domain import casework
    from storage.models import Staff
    from tests.bot.dashboard.helpers import add_staff

    await add_staff(services, "olu@example.org")
    async with services.sessions.begin() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
        staff = (await session.scalars(select(Staff))).one()
        await session.refresh(enquiry, ["callback"])
        closed = await casework.close_case(
            session,
            services.router,
            services.settings.close_outcomes,
            enquiry,
            staff,
            "Advice given",
            services.now(),
        )
    return closed.survey_queued


async def test_the_survey_goes_by_sms_and_is_answered_by_sms(
    client: httpx.AsyncClient,
    tw: FakeTwilio,
    channel_services: Services,
    messaging: Messaging,
    clock: FakeClock,
) -> None:
    parent = Texter(client, tw)
    await parent.send("Hello")
    for answer in SMS_ANSWERS:
        await parent.send(answer)
    assert await _close_case(channel_services)
    await drain(messaging, clock)
    (survey,) = tw.sent_messages()
    assert survey["params"]["To"] == PARENT
    assert segment_count(survey["params"]["Body"]) <= 2
    assert "Reply with a number from 1 to 5." in survey["params"]["Body"]
    await parent.send("4")
    thanks = await parent.send("Knowing my rights")
    assert "Thank you for your feedback" in thanks[-1]


async def test_stop_after_the_survey_was_queued_sends_nothing(
    client: httpx.AsyncClient,
    tw: FakeTwilio,
    channel_services: Services,
    messaging: Messaging,
    clock: FakeClock,
) -> None:
    parent = Texter(client, tw)
    await parent.send("Hello")
    for answer in SMS_ANSWERS:
        await parent.send(answer)
    assert await _close_case(channel_services)
    assert await parent.send("STOP") == []
    await drain(messaging, clock)
    assert tw.sent_messages() == []
    rows = await outbox_rows(channel_services)
    assert [(r.kind, r.status) for r in rows] == [("survey", "suppressed")]


async def test_the_number_texted_from_is_offered_back_only_when_it_can_be_rung(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    """The sender's number is checked once, when the conversation begins: a mobile is kept to
    offer back; a short code or an alphanumeric sender is not (the parent is asked instead)."""
    for sender, kept in [(PARENT, PARENT), ("60123", None), ("SENDIASS", None)]:
        form = sms_form(new_sid("SM"), sender, SERVICE_NUMBER, "Hello", tw.account_sid)
        response = await post_twilio(client, "/twilio/sms", form, tw.auth_token)
        assert response.status_code == 200
        async with channel_services.sessions() as session:
            contact = await session.scalar(
                select(Contact).where(Contact.address_hash == lookup_hash(sender))
            )
            assert contact is not None
            state = await session.scalar(
                select(Conversation.state).where(Conversation.contact_id == contact.id)
            )
        assert state is not None and state["answers"].get("known_phone") == kept, sender
