"""The nudge: after three unanswered attempts the parent is asked, once, and their answer counts."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.conversation.nudge import due_for_nudge, start_nudges
from bot.conversation.router import Inbound
from bot.core.services import Services
from bot.core.settings import Settings
from storage.models import AuditEntry, Callback, Contact, Enquiry
from tests.bot.queue_helpers import callback_of, outbox_rows, receive, services_with
from tests.conftest import FakeClock, london


async def _unanswered(services: Services, reference: str, attempts: int = 3) -> None:
    async with services.sessions.begin() as session:
        enquiry_id = select(Enquiry.id).where(Enquiry.reference == reference).scalar_subquery()
        await session.execute(
            update(Callback)
            .where(Callback.enquiry_id == enquiry_id)
            .values(unanswered_attempts=attempts, status="attempted")
        )


async def _reply(services: Services, address: str, text: str, n: int) -> list[str]:
    replies = await services.router.deliver(
        Inbound("telegram", address, f"nudge-{address}-{n}", text, services.now())
    )
    return [r.text for r in replies]


async def test_the_parent_chooses_a_new_time(settings: Settings, clock: FakeClock) -> None:
    services = services_with(settings, clock)
    try:
        reference = await receive(services, london(2026, 11, 16, 10, 0), address="555")
        await _unanswered(services, reference, attempts=2)
        assert await start_nudges(services, clock()) == 0  # two tries are not enough
        await _unanswered(services, reference)
        clock.set(london(2026, 11, 21, 10, 0))  # Saturday: parents are not messaged
        assert await start_nudges(services, clock()) == 0
        clock.set(london(2026, 11, 23, 10, 0))
        assert await start_nudges(services, clock()) == 1
        assert await start_nudges(services, clock()) == 0  # once per callback
        [row] = await outbox_rows(services, kind="nudge")
        assert (row.channel, row.address) == ("telegram", "555")
        assert row.payload["text"].endswith(
            "we tried to call you. Reply 1 to choose a time, 2 if you no longer need us."
        )
        assert len(row.payload["text"]) <= 160
        async with services.sessions.begin() as session:  # the old deadline was chased
            await session.execute(
                update(Callback).values(reminded_at=clock(), escalated_at=clock())
            )
        await _reply(services, "555", "1", 1)
        replies = await _reply(services, "555", "2", 2)  # the afternoon
        assert replies == ["Thank you. We will call you in the afternoon on Tuesday 24 November."]
        callback = await callback_of(services, reference)
        assert callback.preferred_time == "afternoon"
        assert callback.due_at == london(2026, 11, 24, 17, 0)
        assert callback.status == "attempted"
        # The new deadline gets its own reminder and escalation.
        assert callback.reminded_at is None and callback.escalated_at is None
        async with services.sessions() as session:
            actors = set(
                await session.scalars(
                    select(AuditEntry.actor).where(AuditEntry.action == "callback_rescheduled")
                )
            )
        assert actors == {"parent"}
    finally:
        await services.close()


async def test_the_parent_no_longer_needs_us(settings: Settings, clock: FakeClock) -> None:
    services = services_with(settings, clock)
    try:
        reference = await receive(services, london(2026, 11, 16, 10, 0), address="556")
        await _unanswered(services, reference)
        assert await start_nudges(services, clock()) == 1
        replies = await _reply(services, "556", "2", 1)
        assert replies[0].startswith("Thank you for letting us know.")
        assert reference in replies[0]
        callback = await callback_of(services, reference)
        assert callback.status == "closed" and callback.closed_at == clock()
        async with services.sessions() as session:
            enquiry = await session.scalar(select(Enquiry).where(Enquiry.reference == reference))
        assert enquiry is not None and enquiry.outcome == "no_longer_needed"
    finally:
        await services.close()


async def test_web_chat_and_console_contacts_are_not_messaged(
    settings: Settings, clock: FakeClock
) -> None:
    services = services_with(settings, clock)
    try:
        for channel in ("webchat", "console"):
            reference = await receive(services, london(2026, 11, 16, 10, 0), channel=channel)
            await _unanswered(services, reference)
        assert await start_nudges(services, clock()) == 0
        assert await outbox_rows(services, kind="nudge") == []
    finally:
        await services.close()


async def test_parents_who_cannot_be_messaged_are_not_looked_at_again(
    settings: Settings, clock: FakeClock
) -> None:
    services = services_with(settings, clock)
    try:
        quiet = {}
        for channel in ("webchat", "console", "telegram", "telegram"):
            reference = await receive(services, london(2026, 11, 16, 10, 0), channel=channel)
            await _unanswered(services, reference)
            quiet[reference] = channel
        opted_out, messageable = [r for r, c in quiet.items() if c == "telegram"]
        caller = await receive(services, clock(), channel="voice", address="+447700900555")
        await _unanswered(services, caller)  # texted as SMS, but that number opted out
        async with services.sessions.begin() as session:
            session.add(
                Contact(
                    channel="sms",
                    address="+447700900555",
                    language="en",
                    opted_out=True,
                    unreachable=False,
                    created_at=clock(),
                    last_seen_at=clock(),
                )
            )
            enquiry = await session.scalar(select(Enquiry).where(Enquiry.reference == opted_out))
            assert enquiry is not None and enquiry.contact_id is not None
            await session.execute(
                update(Contact).where(Contact.id == enquiry.contact_id).values(opted_out=True)
            )
        async with services.sessions() as session:
            due = await due_for_nudge(session, settings.nudge_after_attempts)
        assert due == [(await callback_of(services, messageable)).id]
    finally:
        await services.close()
