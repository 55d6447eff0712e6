"""The router end to end on the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from bot.conversation.idle import expire_idle
from bot.conversation.router import Inbound
from bot.core.services import Services
from bot.domain.callbacks import REFERENCE_ALPHABET, open_queue
from flows.engine import Reply
from storage.models import (
    Callback,
    Contact,
    Conversation,
    Enquiry,
    InboxMessage,
    OutboxMessage,
    RotaDay,
    Staff,
    TranscriptLine,
)
from tests.conftest import FakeClock, london
from tests.parent import ANSWERS, Parent, count


async def test_a_whole_intake_makes_one_enquiry_and_callback(services: Services) -> None:
    replies = await Parent(services).complete()
    text = replies[-1].text
    assert "Your reference is PP-" in text
    # Monday 10:00 → Tuesday 10:00: one working day of eight open hours.
    assert "on Tuesday 24 November in the morning, by 10:00" in text
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
        callback = (await session.scalars(select(Callback))).one()
    assert enquiry.reference[3:] and set(enquiry.reference[3:]) <= set(REFERENCE_ALPHABET)
    assert enquiry.reference in text
    assert enquiry.callback_phone == "+447700900123"
    assert enquiry.topic == "ehc" and enquiry.description.startswith("The school")
    assert callback.due_at == london(2026, 11, 24, 10, 0)
    assert callback.due_at.tzinfo is not None
    queue = await _queue(services)
    assert queue[0]["reference"] == enquiry.reference
    assert queue[0]["due_at"] == "2026-11-24T10:00:00+00:00"
    assert queue[0]["channel"] == "console" and queue[0]["language"] == "en"


async def _queue(services: Services) -> list[dict[str, object]]:
    async with services.sessions() as session:
        return await open_queue(session)


async def test_out_of_hours_starts_the_clock_at_the_next_opening(
    services: Services, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 27, 18, 0))  # Friday evening
    replies = await Parent(services).complete(best_time="3")  # any time: the bare target
    assert "by 17:00 on Monday 30 November" in replies[-1].text


async def test_a_redelivery_does_nothing_more_and_gets_the_same_replies(services: Services) -> None:
    parent = Parent(services)
    await parent.say("hi")
    message = parent.inbound("yes", provider_id="dup-1")
    first = await services.router.deliver(message)
    again = await services.router.deliver(message)
    assert [r.text for r in again] == [r.text for r in first]
    assert await count(services, InboxMessage) == 2
    async with services.sessions() as session:
        conversation = (await session.scalars(select(Conversation))).one()
    assert conversation.state["step"] == "asker"


async def test_concurrent_duplicates_are_processed_once(services: Services) -> None:
    parent = Parent(services)
    await parent.say("hi")
    message = parent.inbound("yes", provider_id="dup-2")
    results = await asyncio.gather(*(services.router.deliver(message) for _ in range(5)))
    assert any(results)
    async with services.sessions() as session:
        conversation = (await session.scalars(select(Conversation))).one()
        # The text is ciphertext in the store: compare after reading it back.
        texts = (await session.scalars(select(TranscriptLine.text))).all()
    assert conversation.state["history"] == ["consent"]
    assert texts.count("yes") == 1


async def test_no_consent_keeps_nothing(services: Services) -> None:
    parent = Parent(services)
    await parent.say("hello, my phone is 07700 900123")
    replies = await parent.say("no")
    assert "01234 567890" in replies[0].text
    assert await count(services, Contact) == 0
    assert await count(services, Conversation) == 0
    assert await count(services, TranscriptLine) == 0
    async with services.sessions() as session:
        rows = (await session.scalars(select(InboxMessage))).all()
    assert rows and all(row.payload == {"redacted": True} for row in rows)
    assert all("07700" not in row.address for row in rows)


async def test_stop_deletes_the_draft(services: Services) -> None:
    parent = Parent(services)
    await parent.say("hi")
    for text in ANSWERS[:7]:
        await parent.say(text)
    await parent.say("stop")
    assert await count(services, Conversation) == 0
    assert await count(services, TranscriptLine) == 0
    assert await count(services, Enquiry) == 0


async def test_acknowledged_but_unprocessed_deliveries_are_processed_on_restart(
    services: Services,
) -> None:
    parent = Parent(services)
    inbox_id = await services.router.record(parent.inbound("hello"))
    assert inbox_id is not None
    assert await count(services, Conversation) == 0
    assert await services.router.recover() == 1
    assert await count(services, Conversation) == 1
    assert await services.router.recover() == 0


async def test_a_delivery_whose_processing_fails_is_kept_then_processed_once(
    services: Services,
) -> None:
    """Record and process share one transaction; when processing fails the delivery is still
    kept (the provider gets no 2xx and tries again; a restart processes it), and nothing half
    done by the failed attempt stays behind."""
    parent = Parent(services)
    message = parent.inbound("hello")

    async def broken(*_: object) -> None:
        raise RuntimeError("a fault while processing")

    services.router.intercepts.insert(0, broken)  # type: ignore[arg-type]
    try:
        await services.router.deliver_message(message)
        raise AssertionError("the failure should reach the channel")
    except RuntimeError:
        pass
    finally:
        services.router.intercepts.remove(broken)  # type: ignore[arg-type]
    async with services.sessions() as session:
        kept = (await session.scalars(select(InboxMessage))).all()
    assert len(kept) == 1 and kept[0].processed_at is None
    assert await count(services, Contact) == 0  # the failed attempt's contact was rolled back
    again = await services.router.deliver_message(message)  # the provider's retry
    assert again.replies and await count(services, Conversation) == 1
    assert await services.router.recover() == 0  # processed once, not again at a restart
    replay = await services.router.deliver_message(message)
    assert [r.text for r in replay.replies] == [r.text for r in again.replies]


async def test_telegram_replies_go_through_the_outbox(services: Services) -> None:
    parent = Parent(services, channel="telegram", address="4242")
    await parent.say("/start")
    async with services.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert len(rows) == 1 and rows[0].channel == "telegram" and rows[0].address == "4242"
    assert rows[0].payload["choices"] == ["Yes", "No"]


async def test_rota_assigns_the_duty_officer_of_the_day_the_clock_starts(
    services: Services, clock: FakeClock
) -> None:
    async with services.sessions.begin() as session:
        monday = Staff(email="mon@example.org", name="Mo", role="officer", created_at=clock())
        tuesday = Staff(email="tue@example.org", name="Tu", role="officer", created_at=clock())
        session.add_all([monday, tuesday])
        await session.flush()
        session.add_all(
            [RotaDay(weekday=0, staff_id=monday.id), RotaDay(weekday=1, staff_id=tuesday.id)]
        )
    clock.set(london(2026, 11, 23, 18, 30))  # Monday evening: Tuesday's officer takes it
    await Parent(services).complete()
    rows = await _queue(services)
    assert rows[0]["assigned_to"] == "tue@example.org"
    assert rows[0]["status"] == "assigned"


async def test_nobody_on_duty_leaves_the_callback_unassigned(services: Services) -> None:
    await Parent(services).complete()
    rows = await _queue(services)
    assert rows[0]["assigned_to"] is None and rows[0]["status"] == "queued"


async def test_safeguarding_words_get_safety_numbers_and_an_urgent_callback(
    services: Services,
) -> None:
    parent = Parent(services)
    await parent.say("hi")
    for text in ANSWERS[:6]:
        await parent.say(text)
    replies = await parent.say("He said he wants to kill himself and I am scared")
    assert "999" in replies[0].text and "0808 800 5000" in replies[0].text
    assert "0800 1111" in replies[0].text
    for text in ANSWERS[7:]:
        await parent.say(text)
    await parent.say("1")
    async with services.sessions() as session:
        callback = (await session.scalars(select(Callback))).one()
        alerts = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "safeguarding_alert")
            )
        ).all()
    assert callback.urgent
    assert callback.due_at == london(2026, 11, 23, 11, 0)  # one working hour
    assert len(alerts) == 1


async def test_idle_conversation_with_a_number_becomes_an_incomplete_enquiry(
    services: Services, clock: FakeClock
) -> None:
    parent = Parent(services)
    await parent.say("hi")
    for text in ANSWERS[:8]:  # up to and including the phone number
        await parent.say(text)
    other = Parent(services)
    await other.say("hi")
    await other.say("yes")
    clock.advance(hours=25)
    kept, deleted = await expire_idle(services.router, clock())
    assert (kept, deleted) == (1, 1)
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
    assert enquiry.incomplete and enquiry.callback_phone == "+447700900123"
    assert await count(services, Conversation) == 0
    assert await count(services, Callback) == 1


async def test_bad_input_never_crashes_the_router(services: Services) -> None:
    parent = Parent(services)
    await parent.say("hi")
    for text in [
        "",
        "\u202e\u200b",
        "'; DROP TABLE enquiry; --",
        "<script>alert(1)</script>",
        "9" * 4096,
    ]:
        replies = await parent.say(text)
        # Still at the consent question: a kind re-ask, then the question again.
        assert replies[0].text == "Please reply 1 for yes or 2 for no."
        assert replies[1].choices == ("Yes", "No")
    assert await count(services, Conversation) == 1
    async with services.sessions() as session:
        said = list(
            await session.scalars(
                select(TranscriptLine.text).where(TranscriptLine.direction == "in")
            )
        )
    assert "<script>alert(1)</script>" in said and "'; DROP TABLE enquiry; --" in said


async def test_a_service_started_flow_runs_and_finishes(services: Services) -> None:
    from flows.engine import Choice, Flow, Step
    from flows.intake import WORDS

    finished: list[dict[str, object]] = []

    async def finisher(session, router, contact, conversation, state, now):  # type: ignore[no-untyped-def]
        finished.append(dict(state["answers"]))
        return [Reply("Thank you for telling us.")]

    rating = Flow(
        "rating",
        (Step("rating", "How did we do?", choices=(Choice("1", "1"), Choice("5", "5"))),),
        WORDS,
        confirm=False,
    )
    services.router.register_flow(rating, finisher)
    parent = Parent(services, channel="telegram", address="77")
    await parent.complete()
    async with services.sessions.begin() as session:
        contact = (await session.scalars(select(Contact))).one()
        started = await services.router.start_flow(
            session, contact, "rating", {}, services.now(), kind="survey"
        )
    assert started is not None and started[0].text == "How did we do?"
    async with services.sessions() as session:
        queued = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "survey"))
        ).all()
    assert [(row.address, row.payload["text"]) for row in queued] == [("77", "How did we do?")]
    replies = await parent.say("2")
    assert replies[-1].text == "Thank you for telling us."
    assert finished == [{"rating": "5"}]
    assert await count(services, Conversation) == 0
    # mid-intake, a service-started flow waits rather than interrupting (with an enquiry
    # open, "restart" starts a new intake: anything else is a reply to that enquiry)
    await parent.say("restart")
    async with services.sessions.begin() as session:
        contact = (await session.scalars(select(Contact))).one()
        busy = await services.router.start_flow(
            session, contact, "rating", {}, services.now(), kind="survey"
        )
    assert busy is None


async def test_process_message_gives_the_language_the_reply_needs(services: Services) -> None:
    """Channels answering in the response (SMS) take the language from processing, no re-read."""
    parent = Parent(services, channel="sms", address="+447700900555")
    key = (parent.channel, parent.address)
    first = parent.inbound("hello")
    inbox_id = await services.router.record(first)
    assert inbox_id is not None
    done = await services.router.process_message(inbox_id, key=key)
    assert done.replies and done.language == "en"
    again = await services.router.process_message(inbox_id, key=key)  # done: same answer
    assert again.replies == done.replies and again.language == "en"
    refusal = await services.router.record(parent.inbound("no"))
    assert refusal is not None
    forgotten = await services.router.process_message(refusal, key=key)
    assert forgotten.replies and forgotten.language is None  # no consent: the contact is gone
    assert await count(services, Contact) == 0


async def test_two_workers_take_a_new_contacts_first_messages_at_once(
    postgres_url: str | None, clock: FakeClock
) -> None:
    """Two processes (two routers, two pools) race to create the same contact and conversation:
    the loser runs again on the winner's rows, so both messages are processed, once each."""
    from sqlalchemy import text

    from bot.wiring import build_services
    from tests.conftest import test_settings

    assert postgres_url is not None, "this test needs the real PostgreSQL"
    workers = [build_services(test_settings(postgres_url), now=clock) for _ in range(2)]
    try:
        async with workers[0].engine.begin() as connection:
            await connection.execute(text("TRUNCATE contact, inbox RESTART IDENTITY CASCADE"))
        address = uuid.uuid4().hex
        for round_ in range(5):
            messages = [
                Inbound("sms", f"{address}-{round_}", uuid.uuid4().hex, text_, clock())
                for text_ in ("hello", "yes")
            ]
            await asyncio.gather(
                *(w.router.deliver(m) for w, m in zip(workers, messages, strict=True))
            )
        async with workers[0].sessions() as session:
            contacts = await session.scalar(select(func.count()).select_from(Contact))
            conversations = await session.scalar(select(func.count()).select_from(Conversation))
            unprocessed = await session.scalar(
                select(func.count())
                .select_from(InboxMessage)
                .where(InboxMessage.processed_at.is_(None))
            )
        assert (contacts, conversations, unprocessed) == (5, 5, 0)
    finally:
        for worker in workers:
            await worker.close()


async def test_a_telegram_stop_is_answered_at_the_chat_it_came_from(services: Services) -> None:
    """Forgetting blanks the inbox row's address; the goodbye still goes to the parent."""
    parent = Parent(services, channel="telegram", address="12345")
    await parent.say("hello")
    await parent.say("stop")
    async with services.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [row.address for row in rows] == ["12345", "12345"]
    assert "deleted" in rows[-1].payload["text"]
    assert await count(services, Contact) == 0


async def test_an_unanswered_survey_is_dropped_without_forgetting_the_parent(
    services: Services, clock: FakeClock
) -> None:
    """The idle sweep is for intakes: an ignored survey goes, the parent's records stay."""
    from flows.feedback import FEEDBACK

    parent = Parent(services, channel="sms")
    await parent.complete()
    async with services.sessions.begin() as session:
        contact = (await session.scalars(select(Contact))).one()
        started = await services.router.start_flow(
            session, contact, FEEDBACK.name, {}, services.now(), kind="survey"
        )
    assert started
    clock.advance(hours=25)
    assert await expire_idle(services.router, clock()) == (0, 0)
    assert await count(services, Conversation) == 0
    assert await count(services, Contact) == 1
    async with services.sessions() as session:
        payloads = list(await session.scalars(select(InboxMessage.payload)))
    assert not any(payload.get("redacted") for payload in payloads)


async def test_a_redelivery_replays_the_replies_with_the_language(services: Services) -> None:
    """deliver_message answers a redelivered message as the first time, language included."""
    parent = Parent(services, channel="webchat", address="redelivered-token-0123456789")
    message = parent.inbound("hello")
    first = await services.router.deliver_message(message)
    assert first.replies and first.language == "en"
    again = await services.router.deliver_message(message)
    assert again == first
    assert await count(services, InboxMessage) == 1


async def test_the_router_keeps_no_lock_for_a_quiet_conversation(services: Services) -> None:
    parents = [Parent(services, channel="telegram", address=str(n)) for n in range(5)]
    await asyncio.gather(*(parent.say("hello") for parent in parents))
    assert len(services.router.locks) == 0
