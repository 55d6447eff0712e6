"""Staff notices delivered for real: mail to an SMTP server on loopback, Telegram to the fake
Bot API; each outbox row once, and never the parent's words or number."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.core.services import Services
from bot.core.settings import Settings, SettingsError
from bot.delivery.staff import Senders, dispatch, parse_smtp_url
from bot.domain.digest import send_digest
from storage.models import Callback, OutboxMessage, RotaOverride
from tests.bot.queue_helpers import (
    TOKEN,
    add_staff,
    on_duty_every_weekday,
    outbox_rows,
    receive,
    services_with,
)
from tests.conftest import FakeClock, london
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeTelegram
from tests.parent import Parent


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(e.content, policy=default)  # type: ignore[misc]
            for e in self.envelopes
        ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
async def telegram_api() -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram(TOKEN)
    async with LiveServer(fake.app) as server:
        yield fake, f"{server.url}/bot"


@pytest.fixture
async def wired(
    settings: Settings,
    clock: FakeClock,
    smtp: tuple[Inbox, int],
    telegram_api: tuple[FakeTelegram, str],
) -> AsyncIterator[Services]:
    services = services_with(
        settings,
        clock,
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}?tls=none",
        telegram_api_base_url=telegram_api[1],
    )
    yield services
    await services.close()


def test_smtp_urls_are_read_as_people_write_them() -> None:
    target = parse_smtp_url("smtps://alerts%40council.gov.uk:p%40ss@mail.council.gov.uk")
    assert (target.hostname, target.port, target.use_tls) == ("mail.council.gov.uk", 465, True)
    assert (target.username, target.password) == ("alerts@council.gov.uk", "p@ss")
    assert parse_smtp_url("smtp://127.0.0.1:2525").port == 2525


def test_smtp_requires_starttls_unless_the_url_says_otherwise() -> None:
    plain = parse_smtp_url("smtp://alerts:pw@mail.council.gov.uk:587")
    assert (plain.use_tls, plain.start_tls) == (False, True)
    assert parse_smtp_url("smtps://mail.council.gov.uk").start_tls is False  # TLS from the start
    assert parse_smtp_url("smtp://127.0.0.1:25?tls=none").start_tls is False
    with pytest.raises(SettingsError, match="tls"):
        parse_smtp_url("smtp://mail.council.gov.uk?tls=maybe")


async def test_a_server_without_starttls_gets_no_mail(
    settings: Settings, clock: FakeClock, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    services = services_with(settings, clock, smtp_url=f"smtp://127.0.0.1:{port}")
    try:
        await add_staff(services, "sue@council.gov.uk", role="manager")
        await receive(services, london(2026, 11, 19, 10, 0), urgent=True)
        clock.set(london(2026, 11, 23, 8, 30))
        assert await send_digest(services, clock()) == 1  # the digest goes to managers
        assert await dispatch(services, clock()) == 0  # refused: the server offers no STARTTLS
    finally:
        await services.close()
    assert inbox.envelopes == []


async def test_the_digest_arrives_by_mail_in_plain_text_and_html(
    wired: Services, clock: FakeClock, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    claire = await add_staff(wired, "claire@council.gov.uk", chat_id="1001")
    await add_staff(wired, "sue@council.gov.uk", role="manager", chat_id="2002")
    await on_duty_every_weekday(wired, claire)
    overdue = await receive(wired, london(2026, 11, 19, 10, 0))  # due Fri 20 10:00
    today = await receive(wired, london(2026, 11, 20, 15, 0))  # due Mon 23 15:00
    urgent = await receive(wired, london(2026, 11, 21, 11, 0), urgent=True)  # Sat: Mon 10:00
    clock.set(london(2026, 11, 23, 8, 30))
    assert await send_digest(wired, clock()) == 1  # by email only: Telegram is for alerts
    assert await dispatch(wired, clock()) == 1
    assert await send_digest(wired, clock()) == 0  # once a working day
    [mail] = inbox.messages()
    assert inbox.envelopes[0].rcpt_tos == ["sue@council.gov.uk"]
    assert mail["From"] == "helpline@council.gov.uk"
    assert mail["Subject"] == "Helpline digest Mon 23 Nov: 1 overdue, 2 due today, 1 urgent"
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    markup = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    overdue_part = plain.split("Overdue (1)")[1].split("Due today")[0]
    assert overdue in overdue_part and "Claire" in overdue_part
    assert today in plain.split("Due today (2)")[1].split("Urgent")[0]
    assert urgent in plain.split("Urgent (safeguarding) (1)")[1].split("Unassigned")[0]
    assert "previous working day (Fri 20 Nov): 0/1 (0%)" in plain
    assert f'<a href="https://helpline.example.org/staff/enquiries/{overdue}">' in markup
    for secret in ("My son", "+447700900123", "07700"):
        assert secret not in plain and secret not in markup


async def test_a_safeguarding_alert_reaches_the_duty_officer_and_managers_at_once(
    wired: Services,
    clock: FakeClock,
    smtp: tuple[Inbox, int],
    telegram_api: tuple[FakeTelegram, str],
) -> None:
    fake, _ = telegram_api
    claire = await add_staff(wired, "claire@council.gov.uk", chat_id="1001")
    await add_staff(wired, "sue@council.gov.uk", role="manager", chat_id="2002")
    await add_staff(wired, "tom@council.gov.uk", role="officer", chat_id="3003")
    await on_duty_every_weekday(wired, claire)
    parent = Parent(wired)
    await parent.say("hello")
    await parent.say("yes")
    await parent.say("my dad hits me and I want to kill myself")
    assert await dispatch(wired, clock()) == 4  # two people, email and Telegram each
    assert await dispatch(wired, clock()) == 0  # each row once
    assert [m["chat"]["id"] for m in fake.sent_messages()] == [1001, 2002]
    text = fake.sent_messages()[0]["text"]
    assert text.startswith("URGENT safeguarding concern")
    assert "kill" not in text and "dad" not in text
    assert sorted(e.rcpt_tos[0] for e in smtp[0].envelopes) == [
        "claire@council.gov.uk",
        "sue@council.gov.uk",
    ]


async def test_nobody_on_duty_tells_the_managers_when_the_office_next_opens(
    wired: Services,
    clock: FakeClock,
    smtp: tuple[Inbox, int],
    telegram_api: tuple[FakeTelegram, str],
) -> None:
    fake, _ = telegram_api
    claire = await add_staff(wired, "claire@council.gov.uk", chat_id="1001")
    await add_staff(wired, "sue@council.gov.uk", role="manager", chat_id="2002")
    await on_duty_every_weekday(wired, claire)
    async with wired.sessions.begin() as session:  # Claire is on leave on Monday 30th
        session.add(RotaOverride(day=london(2026, 11, 30, 12, 0).date(), staff_id=None))
    saturday = london(2026, 11, 28, 20, 0)
    clock.set(saturday)
    reference = await receive(wired, saturday)
    async with wired.sessions() as session:
        callback = (await session.scalars(select(Callback))).one()
    assert callback.assigned_to is None and callback.status == "queued"
    [alert] = await outbox_rows(wired, kind="unassigned_alert")
    assert (alert.channel, alert.address) == ("staff", "managers")
    assert await dispatch(wired, saturday) == 0
    assert await dispatch(wired, london(2026, 11, 30, 8, 59)) == 0
    assert await dispatch(wired, london(2026, 11, 30, 9, 0)) == 2
    assert await dispatch(wired, london(2026, 11, 30, 9, 5)) == 0
    [message] = fake.sent_messages()
    assert message["chat"]["id"] == 2002 and reference in message["text"]
    assert [e.rcpt_tos for e in smtp[0].envelopes] == [["sue@council.gov.uk"]]


async def test_a_blocked_staff_chat_fails_once_and_is_not_retried(
    wired: Services, clock: FakeClock, telegram_api: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram_api
    fake.block(2002)
    await add_staff(wired, "sue@council.gov.uk", role="manager", chat_id="2002")
    await receive(wired, clock())  # nobody on duty: the managers are told
    assert await dispatch(wired, clock()) == 1  # the email; Telegram refused
    async with wired.sessions() as session:
        rows = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "staff"))
        )
    assert sorted(r.status for r in rows) == ["expanded", "failed"]
    assert await dispatch(wired, clock.advance(hours=1)) == 0
    assert len(fake.calls("sendMessage")) == 1


async def test_one_telegram_connection_serves_every_dispatch(
    wired: Services, clock: FakeClock, telegram_api: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram_api
    await add_staff(wired, "sue@council.gov.uk", role="manager", chat_id="2002")
    senders = Senders.from_settings(wired.settings)
    try:
        for _ in range(2):
            await receive(wired, clock())  # nobody on duty: the managers are told
            assert await dispatch(wired, clock(), senders) == 2  # email and Telegram
    finally:
        await senders.close()
    assert len(fake.sent_messages()) == 2
    assert len(fake.calls("getMe")) == 1  # not once per message
