"""The logs of a whole Telegram + SMS + staff mail + dashboard session, written as `helpline
serve` writes them: no key to anything, nothing about a parent or an officer."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from aiosmtpd.controller import Controller

from bot.core import logs
from bot.core.settings import Settings
from bot.delivery.staff import dispatch
from bot.web.app import create_app
from bot.wiring import build_services
from storage.models import Staff
from tests.bot.channels.conftest import drain
from tests.bot.channels.test_sms import SMS_ANSWERS, Texter
from tests.bot.channels.test_telegram import CHAT, PRESSES, TelegramParent
from tests.bot.dashboard.helpers import add_staff, client_for, sign_in
from tests.bot.queue_helpers import on_duty_every_weekday
from tests.bot.test_no_personal_data_in_logs import SECRETS
from tests.bot.test_notify import Inbox, free_port
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram, update_message
from tests.fakes.twilio_api import FakeTwilio


@pytest.fixture
def written(channel_settings: Settings) -> Iterator[io.StringIO]:
    """Logging exactly as `helpline serve` sets it up, at DEBUG, written to a string."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *logs.QUIET)}
    stream = io.StringIO()
    handler = logs.configure(channel_settings, logging.DEBUG, stream)
    yield stream
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_telegram_sms_staff_mail_and_dashboard_log_no_secret_and_nothing_personal(
    written: io.StringIO,
    channel_settings: Settings,
    tg: FakeTelegram,
    tw: FakeTwilio,
    clock: FakeClock,
) -> None:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    smtp_url = f"smtp://alerts:Sm7p-Pa55word@127.0.0.1:{port}?tls=none"
    settings = replace(channel_settings, smtp_url=smtp_url, mail_from="helpline@council.gov.uk")
    services = build_services(settings, now=clock)
    app = create_app(settings, services=services, migrate=False)
    try:
        officer = await add_staff(services, "claire@council.gov.uk")
        async with services.sessions.begin() as session:
            staff = await session.get(Staff, officer.id)
            assert staff is not None
            staff.telegram_chat_id = "1001"
        await on_duty_every_weekday(services, officer.id)
        async with client_for(app) as client:
            parent = TelegramParent(client, tg)
            await parent.post(update_message(parent.next_id(), CHAT, "/start"))
            await drain(app.state.messaging, clock)
            for kind, value in PRESSES:
                await parent.act(kind, value)
                await drain(app.state.messaging, clock)
            await parent.act("press", "1")
            await parent.act("type", "he said he wants to kill himself")
            await drain(app.state.messaging, clock)
            texter = Texter(client, tw)
            for body in SMS_ANSWERS:
                await texter.send(body)
            await dispatch(services, clock())
        transport = httpx.ASGITransport(app=app)  # the public URL is https: so are its cookies
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as web:
            await sign_in(web, "claire@council.gov.uk")
            assert (await web.get("/staff/queue")).status_code == 200
    finally:
        await app.state.messaging.stop()
        await services.close()
        controller.stop()
    assert len(tg.calls("sendMessage")) > 10  # the Bot API was really used...
    text = written.getvalue()
    assert "safeguarding concern" in text
    for secret in (
        *filter(None, logs.secrets_of(settings)),
        tg.token,
        tw.auth_token,
        "Sm7p-Pa55word",
    ):
        assert secret not in text, secret  # ...and no key to it is in the log
    for personal in (*SECRETS, "claire@council.gov.uk", "447700900123"):
        assert personal not in text, personal
