"""Telegram through python-telegram-bot's real HTTPXRequest against the fake Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.channels.telegram import ALLOWED_UPDATES
from bot.cli.telegram import set_webhook
from bot.conversation.router import Inbound
from bot.core.errors import HelplineError
from bot.core.services import Services
from bot.domain.callbacks import open_queue
from bot.web.app import create_app
from bot.web.messaging import Messaging
from bot.wiring import build_services
from storage.models import Contact, Enquiry, InboxMessage, OutboxMessage
from tests.bot.channels.conftest import (
    PUBLIC_URL,
    WEBHOOK_SECRET,
    count_rows,
    drain,
    outbox_rows,
)
from tests.conftest import FakeClock
from tests.fakes.telegram_api import (
    FakeTelegram,
    update_callback_query,
    update_contact,
    update_message,
)

CHAT = 515151
# Buttons for choices, typed text where the intake asks for words, the contact button for
# the phone number.
PRESSES: list[tuple[str, str]] = [
    ("press", "1"),  # consent
    ("press", "1"),  # parent
    ("press", "2"),  # EHC
    ("press", "2"),  # assessment asked
    ("type", "Year 4"),
    ("press", "2"),  # primary
    ("type", "The school says they cannot meet his needs."),
    ("contact", "447700900123"),
    ("press", "1"),  # morning
    ("press", "1"),  # voicemail ok
    ("press", "2"),  # no interpreter
    ("press", "1"),  # may talk to school
    ("press", "5"),  # website
]


class TelegramParent:
    """A parent in a private chat with the bot; updates get increasing update_ids."""

    def __init__(self, client: httpx.AsyncClient, tg: FakeTelegram, chat: int = CHAT) -> None:
        self.client, self.tg, self.chat = client, tg, chat
        self.update_id = chat * 1000

    def next_id(self) -> int:
        self.update_id += 1
        return self.update_id

    async def post(self, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.client.post("/telegram/webhook", json=update, headers=headers)
        return response.status_code

    def last_message(self) -> dict[str, Any]:
        return self.tg.sent_messages(self.chat)[-1]

    async def act(self, kind: str, value: str) -> int:
        if kind == "press":
            message = self.last_message()
            update = update_callback_query(
                self.next_id(), self.chat, value, message["message_id"], message_text="?"
            )
        elif kind == "contact":
            update = update_contact(self.next_id(), self.chat, value)
        else:
            update = update_message(self.next_id(), self.chat, value)
        return await self.post(update)


async def test_a_whole_intake_over_telegram_with_buttons_and_a_shared_contact(
    client: httpx.AsyncClient,
    tg: FakeTelegram,
    messaging: Messaging,
    channel_services: Services,
    clock: FakeClock,
) -> None:
    parent = TelegramParent(client, tg)
    assert await parent.post(update_message(parent.next_id(), CHAT, "/start")) == 200
    await drain(messaging, clock)
    welcome = parent.last_message()
    assert "Welcome to" in welcome["text"]
    buttons = welcome["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in buttons] == [["1"], ["2"]]
    for kind, value in PRESSES:
        if kind == "contact":
            asked = tg.calls("sendMessage")[-1]
            keyboard = asked["reply_markup"]["keyboard"]
            assert keyboard[0][0]["request_contact"] is True
            assert keyboard[0][0]["text"] == "Share my phone number"
        assert await parent.act(kind, value) == 200
        await drain(messaging, clock)
    summary = parent.last_message()
    assert "Please check your answers" in summary["text"]
    assert "07700 900123" in summary["text"]
    await parent.act("press", "1")
    await drain(messaging, clock)
    confirmation = parent.last_message()["text"]
    assert "Your reference is PP-" in confirmation
    presses = sum(1 for kind, _ in PRESSES if kind == "press") + 1
    assert len(tg.calls("answerCallbackQuery")) == presses
    assert len(tg.calls("editMessageReplyMarkup")) == presses
    async with channel_services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
        queue = await open_queue(session)
    assert enquiry.channel == "telegram"
    assert enquiry.callback_phone == "+447700900123"
    assert queue[0]["channel"] == "telegram"
    assert all(row.status == "sent" for row in await outbox_rows(channel_services))

    await parent.post(update_message(parent.next_id(), CHAT, "/status"))
    await drain(messaging, clock)
    status = parent.last_message()["text"]
    assert enquiry.reference in status
    assert "by 10:00 on Tuesday 24 November" in status


async def test_status_without_an_enquiry_says_so(
    client: httpx.AsyncClient, tg: FakeTelegram, messaging: Messaging, clock: FakeClock
) -> None:
    parent = TelegramParent(client, tg)
    await parent.post(update_message(parent.next_id(), CHAT, "/status"))
    await drain(messaging, clock)
    assert "no open enquiry" in parent.last_message()["text"]


async def test_replies_to_one_chat_go_one_a_second(
    client: httpx.AsyncClient,
    tg: FakeTelegram,
    messaging: Messaging,
    channel_services: Services,
    clock: FakeClock,
) -> None:
    parent = TelegramParent(client, tg)
    await parent.post(update_message(parent.next_id(), CHAT, "/start"))
    await parent.post(update_message(parent.next_id(), CHAT, "/help"))  # help + the question
    assert await messaging.dispatcher.run_once(clock()) == 1
    assert len(tg.sent_messages(CHAT)) == 1
    assert await messaging.dispatcher.run_once(clock()) == 0  # same second: waits
    clock.advance(seconds=1)
    assert await messaging.dispatcher.run_once(clock()) == 1
    clock.advance(seconds=1)
    assert await messaging.dispatcher.run_once(clock()) == 1
    texts = [m["text"] for m in tg.sent_messages(CHAT)]
    assert "Welcome to" in texts[0] and "Reply with the number" in texts[1]
    assert "Welcome to" in texts[2]


async def test_duplicate_updates_sequential_and_concurrent_do_nothing_more(
    client: httpx.AsyncClient,
    tg: FakeTelegram,
    messaging: Messaging,
    channel_services: Services,
    clock: FakeClock,
) -> None:
    parent = TelegramParent(client, tg)
    start = update_message(parent.next_id(), CHAT, "/start")
    assert await parent.post(start) == 200
    assert await parent.post(start) == 200
    await drain(messaging, clock)
    for kind, value in PRESSES:
        await parent.act(kind, value)
        await drain(messaging, clock)
    send = update_callback_query(parent.next_id(), CHAT, "1", parent.last_message()["message_id"])
    codes = await asyncio.gather(*(parent.post(send) for _ in range(5)))
    assert codes == [200] * 5
    await drain(messaging, clock)
    confirmations = [m for m in tg.sent_messages(CHAT) if "Your reference" in m["text"]]
    welcomes = [m for m in tg.sent_messages(CHAT) if "Welcome to" in m["text"]]
    assert len(confirmations) == 1 and len(welcomes) == 1
    async with channel_services.sessions() as session:
        assert len(list(await session.scalars(select(Enquiry)))) == 1
        inbox = list(await session.scalars(select(InboxMessage)))
    assert len(inbox) == len(PRESSES) + 2


async def test_a_missing_or_wrong_secret_gets_403_and_writes_nothing(
    client: httpx.AsyncClient, tg: FakeTelegram, channel_services: Services
) -> None:
    parent = TelegramParent(client, tg)
    before = await count_rows(channel_services)
    update = update_message(parent.next_id(), CHAT, "/start")
    assert await parent.post(update, secret=None) == 403
    assert await parent.post(update, secret="wrong") == 403
    assert await parent.post(update, secret=WEBHOOK_SECRET + "x") == 403
    assert await parent.post(update, secret="") == 403
    assert await count_rows(channel_services) == before
    bad = await client.post(
        "/telegram/webhook",
        content=b"{not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
    )
    assert bad.status_code == 400
    assert await count_rows(channel_services) == before


async def test_a_blocked_bot_marks_the_contact_unreachable(
    client: httpx.AsyncClient,
    tg: FakeTelegram,
    messaging: Messaging,
    channel_services: Services,
    clock: FakeClock,
) -> None:
    parent = TelegramParent(client, tg)
    await parent.post(update_message(parent.next_id(), CHAT, "/start"))
    await drain(messaging, clock)
    for kind, value in PRESSES:
        await parent.act(kind, value)
        await drain(messaging, clock)
    tg.block(CHAT)
    await parent.act("press", "1")
    await drain(messaging, clock)
    rows = await outbox_rows(channel_services)
    assert (rows[-1].status, rows[-1].last_error) == ("failed", "blocked by the user")
    async with channel_services.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
        queue = await open_queue(session)
    assert contact.unreachable is True
    assert queue[0]["unreachable"] is True
    await drain(messaging, clock)
    assert len(tg.calls("sendMessage")) == len(tg.sent_messages()) + 1  # never retried
    tg.unblock(CHAT)
    await parent.post(update_message(parent.next_id(), CHAT, "hello"))
    async with channel_services.sessions() as session:
        assert (await session.scalars(select(Contact.unreachable))).one() is False


async def test_retry_after_reschedules_and_sends_later(
    client: httpx.AsyncClient,
    tg: FakeTelegram,
    messaging: Messaging,
    channel_services: Services,
    clock: FakeClock,
) -> None:
    parent = TelegramParent(client, tg)
    tg.fail_next("sendMessage", 429, retry_after=3)
    await parent.post(update_message(parent.next_id(), CHAT, "/start"))
    start = clock()
    assert await messaging.dispatcher.run_once(start) == 0
    row = (await outbox_rows(channel_services))[0]
    assert row.status == "pending"
    assert (row.send_after - start).total_seconds() == 3
    clock.advance(seconds=2)
    assert await messaging.dispatcher.run_once(clock()) == 0
    assert tg.sent_messages() == []
    clock.advance(seconds=1)
    assert await messaging.dispatcher.run_once(clock()) == 1
    assert "Welcome to" in parent.last_message()["text"]
    assert len(tg.calls("sendMessage")) == 2
    row = (await outbox_rows(channel_services))[0]
    assert (row.status, row.attempts) == ("sent", 1)


async def test_the_app_restarted_between_acknowledgement_and_processing(
    channel_services: Services, tg: FakeTelegram, clock: FakeClock
) -> None:
    # The webhook committed the update and answered 200, then the process died.
    acknowledged = Inbound(
        channel="telegram",
        address=str(CHAT),
        provider_id="777",
        text="restart",
        received_at=clock(),
        language_hint="en",
    )
    assert await channel_services.router.record(acknowledged) is not None
    restarted = build_services(channel_services.settings, now=clock)
    app = create_app(restarted.settings, services=restarted, migrate=False)
    async with app.router.lifespan_context(app):
        for _ in range(1000):  # the dispatcher task runs beside us: wait for its mark
            rows = await outbox_rows(channel_services)
            if rows and rows[0].status == "sent":
                break
            await asyncio.sleep(0.01)
    assert "Welcome to" in tg.sent_messages(CHAT)[0]["text"]
    async with channel_services.sessions() as session:
        row = (await session.scalars(select(InboxMessage))).one()
        sent = (await session.scalars(select(OutboxMessage))).one()
    assert row.processed_at is not None
    assert sent.status == "sent"


async def test_set_webhook_registers_the_public_url_with_the_secret(
    channel_services: Services, tg: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    assert await set_webhook(channel_services, None) == 0
    assert tg.webhook["url"] == PUBLIC_URL + "/telegram/webhook"
    assert tg.webhook["secret_token"] == WEBHOOK_SECRET
    assert tg.webhook["allowed_updates"] == ALLOWED_UPDATES
    assert [c["command"] for c in tg.commands] == ["start", "status", "help", "stop"]
    out = capsys.readouterr().out
    assert "telegram webhook set to https://" in out
    assert "0 update(s) waiting; last delivery error: none" in out
    tg.webhook_trouble(7, "Connection refused")
    assert await set_webhook(channel_services, None) == 0
    assert "7 update(s) waiting; last delivery error: Connection refused" in capsys.readouterr().out

    no_token = replace(
        channel_services, settings=replace(channel_services.settings, telegram_bot_token="")
    )
    with pytest.raises(HelplineError, match="TELEGRAM_BOT_TOKEN"):
        await set_webhook(no_token, None)
    plain_http = replace(
        channel_services,
        settings=replace(channel_services.settings, public_url="http://localhost:8080"),
    )
    with pytest.raises(HelplineError, match="HELPLINE_PUBLIC_URL must start with https://"):
        await set_webhook(plain_http, None)
    tg.fail_next("setWebhook", 401, description="Unauthorized")
    with pytest.raises(HelplineError, match="Telegram refused") as refused:
        await set_webhook(channel_services, None)
    assert tg.token not in str(refused.value)


def test_serve_names_each_channel_on_or_off(channel_services: Services) -> None:
    from bot.cli.main import channel_status
    from bot.core.settings import Settings

    on = channel_status(channel_services.settings)
    assert "telegram: on at /telegram/webhook" in on
    assert any(line.startswith("sms/whatsapp/voice: on") for line in on)
    off = channel_status(Settings())
    assert any(line.startswith("telegram: off") for line in off)
    assert any(line.startswith("sms/whatsapp/voice: off") for line in off)


def test_the_cli_says_plainly_when_the_token_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.main import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "helpline.toml").write_text('languages = ["en"]\n')
    monkeypatch.setenv("HELPLINE_CONFIG", str(tmp_path / "helpline.toml"))
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["telegram", "set-webhook"]) == 2
    assert "helpline: TELEGRAM_BOT_TOKEN is not set" in capsys.readouterr().err
