"""The outbox dispatcher on its own: Telegram's global limit, at-most-once, and what is not ours."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.services import Services
from bot.web.messaging import Messaging
from storage import outbox
from storage.models import OutboxMessage
from tests.bot.channels.conftest import outbox_rows
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio


async def _enqueue(services: Services, channel: str, address: str, text: str) -> None:
    async with services.sessions.begin() as session:
        outbox.enqueue(
            session,
            channel=channel,
            address=address,
            kind="notice",
            payload={"text": text, "choices": [], "request_phone": False},
            now=services.now(),
        )


async def test_telegram_gets_at_most_30_messages_a_second(
    channel_services: Services, messaging: Messaging, tg: FakeTelegram, clock: FakeClock
) -> None:
    for chat in range(1, 41):
        await _enqueue(channel_services, "telegram", str(1000 + chat), "Hello")
    assert await messaging.dispatcher.run_once(clock()) == 30
    assert await messaging.dispatcher.run_once(clock()) == 0
    clock.advance(seconds=1)
    assert await messaging.dispatcher.run_once(clock()) == 10
    assert len(tg.sent_messages()) == 40
    assert {r.status for r in await outbox_rows(channel_services)} == {"sent"}


async def test_staff_and_email_rows_are_left_for_their_own_sender(
    channel_services: Services, messaging: Messaging, clock: FakeClock
) -> None:
    await _enqueue(channel_services, "staff", "duty", "Safeguarding alert")
    await _enqueue(channel_services, "email", "manager@example.org", "Digest")
    assert await messaging.dispatcher.run_once(clock()) == 0
    assert {r.status for r in await outbox_rows(channel_services, staff=True)} == {"pending"}


async def test_a_row_claimed_before_a_crash_is_never_sent_again(
    channel_services: Services,
    messaging: Messaging,
    tg: FakeTelegram,
    tw: FakeTwilio,
    clock: FakeClock,
) -> None:
    await _enqueue(channel_services, "telegram", "4242", "Hello")
    await _enqueue(channel_services, "sms", "+447700900123", "Hello")
    async with channel_services.sessions.begin() as session:
        claimed = await outbox.claim(session, clock(), {"telegram", "sms"})
    assert len(claimed) == 2  # ...and then the process died mid-send
    clock.advance(minutes=5)
    assert await messaging.dispatcher.run_once(clock()) == 0
    assert tg.sent_messages() == [] and tw.sent_messages() == []


async def test_an_sms_row_is_sent_once_with_a_status_callback(
    channel_services: Services, messaging: Messaging, tw: FakeTwilio, clock: FakeClock
) -> None:
    await _enqueue(channel_services, "sms", "+447700900123", "Your callback is tomorrow")
    assert await messaging.dispatcher.run_once(clock()) == 1
    assert await messaging.dispatcher.run_once(clock()) == 0
    (sent,) = tw.sent_messages()
    assert sent["params"]["StatusCallback"].endswith("/twilio/status")
    async with channel_services.sessions() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert (row.status, row.provider_message_id, row.attempts) == ("sent", sent["sid"], 1)
