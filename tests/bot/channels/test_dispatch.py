"""The one outbox worker on its own: Telegram's global limit, a batch claimed at once, a row
abandoned by a dead process sent again after its lease, back-off, and staff rows beside parents'."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core.services import Services
from bot.core.settings import Settings, SettingsError
from bot.delivery.build import lease
from bot.delivery.worker import FIRST_RETRY, LEASE, Outcome, Sender
from bot.web.messaging import Messaging
from storage import outbox
from storage.models import OutboxMessage
from tests.bot.channels.conftest import outbox_rows
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio


async def _enqueue(services: Services, channel: str, address: str, text: str) -> int:
    async with services.sessions.begin() as session:
        row = outbox.enqueue(
            session,
            channel=channel,
            address=address,
            kind="notice",
            payload={"text": text, "choices": [], "request_phone": False},
            now=services.now(),
        )
        await session.flush()
        return row.id


async def _sending(services: Services) -> int:
    async with services.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sending")
        )
    return int(count or 0)


class Watched:
    """The real sender, with a look at the store at the moment each row goes to the provider."""

    def __init__(self, sender: Sender, services: Services) -> None:
        self.sender, self.services = sender, services
        self.channels = sender.channels
        self.in_hand: list[int] = []  # rows `sending` as each send starts

    async def ready(self, now: datetime) -> bool:
        return await self.sender.ready(now)

    def hold(self, row: OutboxMessage, now: datetime) -> datetime | None:
        return self.sender.hold(row, now)

    def room(self, now: datetime) -> int:
        return self.sender.room(now)

    async def send(self, row: OutboxMessage, now: datetime) -> Outcome:
        self.in_hand.append(await _sending(self.services))
        return await self.sender.send(row, now)

    async def close(self) -> None:
        await self.sender.close()


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


async def test_a_batch_is_claimed_at_once_each_row_marked_as_sent_the_rest_handed_back(
    channel_services: Services, messaging: Messaging, tg: FakeTelegram, clock: FakeClock
) -> None:
    watched = Watched(messaging.dispatcher.senders["telegram"], channel_services)
    messaging.dispatcher.senders["telegram"] = watched
    for chat in range(1, 41):
        await _enqueue(channel_services, "telegram", str(1000 + chat), "Hello")
    await _enqueue(channel_services, "telegram", "1001", "A second message to the first chat")
    assert await messaging.dispatcher.run_once(clock()) == 30
    # One claim took the 30 Telegram's pace allows this second, not all 41 (the rest would be
    # decrypted and handed back each sweep); each row is marked as soon as it is sent (a crash
    # can send again only the row whose send was under way; the others go after the lease).
    assert watched.in_hand == list(range(30, 0, -1))
    rows = await outbox_rows(channel_services)
    # The other 11 wait, unclaimed: no try counted.
    assert (
        sorted((r.status, r.attempts) for r in rows if r.status != "sent") == [("pending", 0)] * 11
    )
    assert await _sending(channel_services) == 0


async def test_a_row_left_sending_by_a_dead_process_is_sent_after_its_lease(
    channel_services: Services,
    messaging: Messaging,
    tg: FakeTelegram,
    tw: FakeTwilio,
    clock: FakeClock,
) -> None:
    for channel, address in (("telegram", "4242"), ("sms", "+447700900123")):
        row_id = await _enqueue(channel_services, channel, address, "Hello")
        async with channel_services.sessions.begin() as session:
            assert await outbox.claim(session, row_id, clock())
    # ...and then the process died mid-send. A live worker's row is not taken from it:
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert await messaging.dispatcher.run_once(clock()) == 0
    assert tg.sent_messages() == [] and tw.sent_messages() == []
    clock.advance(seconds=2)  # the lease ran out: the dead process's rows are pending again
    assert await messaging.dispatcher.run_once(clock()) == 2
    assert len(tg.sent_messages()) == 1 and len(tw.sent_messages()) == 1
    assert [(r.status, r.attempts) for r in await outbox_rows(channel_services)] == [
        ("sent", 2),
        ("sent", 2),
    ]


async def test_a_busy_provider_is_tried_again_later_then_given_up(
    channel_services: Services, messaging: Messaging, tw: FakeTwilio, clock: FakeClock
) -> None:
    await _enqueue(channel_services, "sms", "+447700900123", "Your callback is tomorrow")
    for _ in range(5):
        tw.fail_next(429, 20429, "Too Many Requests")
    waits = []
    for _ in range(5):
        assert await messaging.dispatcher.run_once(clock()) == 0
        (row,) = await outbox_rows(channel_services)
        waits.append(row.send_after - clock() if row.status == "pending" else None)
        clock.advance(minutes=10)
    assert waits == [FIRST_RETRY * n for n in (1, 2, 4, 8)] + [None]
    assert (row.status, row.attempts, row.last_error) == ("failed", 5, "twilio 429")


async def test_one_worker_sends_staff_and_parents_rows_with_one_telegram_pace(
    channel_services: Services, messaging: Messaging, tg: FakeTelegram, clock: FakeClock
) -> None:
    await _enqueue(channel_services, "staff", "telegram:5005", "URGENT safeguarding concern")
    await _enqueue(channel_services, "telegram", "5005", "A parent who is also staff")
    await _enqueue(channel_services, "email", "manager@example.org", "Digest")
    await _enqueue(channel_services, "staff", "duty", "Safeguarding alert")  # nobody on duty
    assert await messaging.dispatcher.run_once(clock()) == 1
    assert [m["text"] for m in tg.sent_messages(5005)] == ["URGENT safeguarding concern"]
    clock.advance(seconds=1)  # one chat, one message a second, whoever sends it
    assert await messaging.dispatcher.run_once(clock()) == 1
    rows = await outbox_rows(channel_services, staff=True)
    assert [(r.address, r.status) for r in rows] == [
        ("telegram:5005", "sent"),
        ("5005", "sent"),
        ("manager@example.org", "failed"),  # email is off here, and says so
        ("duty", "expanded"),
    ]
    assert rows[2].last_error == "email is off (HELPLINE_SMTP_URL not set)"


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


def test_the_lease_is_read_from_the_toml_file_and_checked() -> None:
    assert lease(Settings()) == LEASE
    assert lease(Settings(extra={"outbox": {"lease_seconds": 5}})) == timedelta(seconds=5)
    for wrong in (0, -1, "soon", True):
        with pytest.raises(SettingsError, match=r"outbox\.lease_seconds"):
            lease(Settings(extra={"outbox": {"lease_seconds": wrong}}))
