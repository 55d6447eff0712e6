"""Prove the fakes through the real client libraries, so other tests can trust them."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, InvalidToken, RetryAfter
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from bot.channels.twilio.client import make_twilio_client, rebase_twilio_url
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import (
    FakeTelegram,
    update_callback_query,
    update_contact,
    update_message,
)
from tests.fakes.twilio_api import (
    FakeTwilio,
    new_sid,
    recording_status_form,
    signed_post_headers,
    sms_form,
    twilio_client,
    voice_form,
    whatsapp_form,
)

CHAT = 424242


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def tg() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def tg_server(tg: FakeTelegram) -> AsyncIterator[LiveServer]:
    async with LiveServer(tg.app) as server:
        yield server


@pytest.fixture
async def bot(tg: FakeTelegram, tg_server: LiveServer) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(tg.token, base_url=f"{tg_server.url}/bot") as b:
        yield b


@pytest.fixture
def tw() -> FakeTwilio:
    return FakeTwilio()


@pytest.fixture
def tw_server(tw: FakeTwilio) -> Iterator[LiveServer]:
    with LiveServer(tw.app) as server:
        yield server


# ------------------------------------------------------------------ LiveServer
def test_live_server_sync_start_stop(tw: FakeTwilio) -> None:
    server = LiveServer(tw.app).start()
    try:
        r = httpx.get(f"{server.url}/nope")
        assert r.status_code == 404
    finally:
        server.stop()
    server.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{server.port}/")


async def test_live_server_async_context(tg: FakeTelegram) -> None:
    async with LiveServer(tg.app) as server, httpx.AsyncClient() as client:
        r = await client.post(f"{server.url}/bot{tg.token}/getMe", json={})
        assert r.json()["result"]["is_bot"] is True


# ------------------------------------------------------------------ Telegram
async def test_get_me(bot: telegram.Bot, tg: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "helpline_test_bot"
    assert me.id == int(tg.token.split(":")[0])


async def test_send_message_with_inline_keyboard(bot: telegram.Bot, tg: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="consent:yes")]])
    m1 = await bot.send_message(CHAT, "Hello 👋", reply_markup=markup)
    m2 = await bot.send_message(CHAT, "123")  # numeric text must stay a string
    assert m2.message_id == m1.message_id + 1
    assert m1.chat.id == CHAT and m1.text == "Hello 👋"
    assert m1.reply_markup == markup
    assert isinstance(m1.date, dtm.datetime)
    assert [m["text"] for m in tg.sent_messages(CHAT)] == ["Hello 👋", "123"]
    assert tg.sent_messages(CHAT + 1) == []
    (call, _) = tg.calls("sendMessage")
    assert call["chat_id"] == CHAT
    assert call["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "consent:yes"

    edited = await bot.edit_message_reply_markup(CHAT, m1.message_id, reply_markup=None)
    assert isinstance(edited, telegram.Message) and edited.reply_markup is None
    assert "reply_markup" not in tg.sent_messages(CHAT)[0]


async def test_answer_callback_query_and_commands(bot: telegram.Bot, tg: FakeTelegram) -> None:
    assert await bot.answer_callback_query("cbq-1", text="Thanks")
    assert tg.calls("answerCallbackQuery") == [{"callback_query_id": "cbq-1", "text": "Thanks"}]
    assert await bot.set_my_commands([("start", "Start"), ("help", "Get help")])
    assert tg.commands[1] == {"command": "help", "description": "Get help"}


async def test_webhook_lifecycle(bot: telegram.Bot, tg: FakeTelegram) -> None:
    assert await bot.set_webhook(
        "https://helpline.example/telegram",
        secret_token="s3cret",
        allowed_updates=["message", "callback_query"],
        drop_pending_updates=True,
    )
    assert tg.webhook["url"] == "https://helpline.example/telegram"
    assert tg.webhook["secret_token"] == "s3cret"
    assert tg.webhook["allowed_updates"] == ["message", "callback_query"]
    assert tg.webhook["drop_pending_updates"] is True
    info = await bot.get_webhook_info()
    assert info.url == "https://helpline.example/telegram"
    assert info.allowed_updates == ("message", "callback_query")
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_flood_429_is_retry_after(
    bot: telegram.Bot, tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 warns (-> error here) on int retry_after unless opted in to timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    tg.fail_next("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(RetryAfter) as exc:
        await bot.send_message(CHAT, "hi")
    assert exc.value.retry_after == dtm.timedelta(seconds=7)
    assert (await bot.send_message(CHAT, "hi")).text == "hi"  # only the next call fails
    assert len(tg.sent_messages()) == 1


async def test_blocked_chat_is_forbidden(bot: telegram.Bot, tg: FakeTelegram) -> None:
    tg.block(CHAT)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "hi")
    assert tg.sent_messages() == []


async def test_wrong_token(tg: FakeTelegram, tg_server: LiveServer) -> None:
    bad = telegram.Bot("999:wrong", base_url=f"{tg_server.url}/bot")
    with pytest.raises(InvalidToken):
        await bad.initialize()  # get_me -> 401
    await bad.shutdown()
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{tg_server.url}/bot999:wrong/getMe")
    assert r.status_code == 401
    assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_update_builders_parse(bot: telegram.Bot) -> None:
    u = Update.de_json(update_message(1, CHAT, "/start", language_code="cy"), bot)
    assert u.message is not None and u.effective_user is not None
    assert u.message.text == "/start" and u.effective_user.language_code == "cy"
    assert u.message.entities[0].type == "bot_command"
    assert u.effective_chat is not None and u.effective_chat.id == CHAT

    u = Update.de_json(update_callback_query(2, CHAT, "consent:yes", message_id=5), bot)
    assert u.callback_query is not None and u.callback_query.data == "consent:yes"
    assert isinstance(u.callback_query.message, telegram.Message)
    assert u.callback_query.message.message_id == 5

    u = Update.de_json(update_contact(3, CHAT, "447700900123"), bot)
    assert u.message is not None and u.message.contact is not None
    assert u.message.contact.phone_number == "447700900123"
    assert u.message.contact.user_id == CHAT


async def test_json_body_also_accepted(tg: FakeTelegram, tg_server: LiveServer) -> None:
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{tg_server.url}/bot{tg.token}/sendMessage", json={"chat_id": 5, "text": "json"}
        )
    assert r.json()["result"]["chat"]["id"] == 5


# ------------------------------------------------------------------ Twilio
def test_rebase_twilio_url() -> None:
    base = "http://127.0.0.1:9/prefix/"
    assert (
        rebase_twilio_url("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?a=1", base)
        == "http://127.0.0.1:9/prefix/2010-04-01/Accounts/AC1/Messages.json?a=1"
    )
    assert rebase_twilio_url("https://api.dublin.ie1.twilio.com/x", base) == (
        "http://127.0.0.1:9/prefix/x"
    )
    assert rebase_twilio_url("https://eviltwilio.com/x", base) == "https://eviltwilio.com/x"


def test_messages_create_reaches_fake(tw: FakeTwilio, tw_server: LiveServer) -> None:
    client = make_twilio_client(tw.account_sid, tw.auth_token, base_url=tw_server.url)
    msg = client.messages.create(
        to="+447700900123",
        from_="+447700900000",
        body="Your callback is booked",
        status_callback="https://helpline.example/twilio/status",
    )
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert msg.status == "queued" and msg.body == "Your callback is booked"
    assert isinstance(msg.date_created, dtm.datetime)
    (sent,) = tw.sent_messages()
    assert sent["params"]["Body"] == "Your callback is booked"
    assert sent["params"]["StatusCallback"] == "https://helpline.example/twilio/status"
    fetched = client.messages(msg.sid).fetch()
    assert fetched.to == "+447700900123"


def test_content_template_whatsapp(tw: FakeTwilio, tw_server: LiveServer) -> None:
    client = twilio_client(tw_server.url, tw.account_sid, tw.auth_token)
    client.messages.create(
        to="whatsapp:+447700900123",
        from_="whatsapp:+447700900000",
        content_sid="HX" + "a" * 32,
        content_variables='{"1": "Sam"}',
    )
    assert tw.sent_messages()[0]["params"]["ContentVariables"] == '{"1": "Sam"}'


def test_failure_is_twilio_rest_exception(tw: FakeTwilio, tw_server: LiveServer) -> None:
    client = tw.client(tw_server.url)
    tw.fail_next(status=400, code=21610, message="Attempt to send to unsubscribed recipient")
    with pytest.raises(TwilioRestException) as exc:
        client.messages.create(to="+447700900123", from_="+447700900000", body="x")
    assert exc.value.status == 400 and exc.value.code == 21610
    assert tw.sent_messages() == []
    client.messages.create(to="+447700900123", from_="+447700900000", body="x")
    assert len(tw.sent_messages()) == 1


def test_wrong_credentials_401(tw: FakeTwilio, tw_server: LiveServer) -> None:
    client = make_twilio_client(tw.account_sid, "wrong-token", base_url=tw_server.url)
    with pytest.raises(TwilioRestException) as exc:
        client.messages.create(to="+447700900123", from_="+447700900000", body="x")
    assert exc.value.status == 401 and exc.value.code == 20003
    assert tw.sent_messages() == []


async def test_twilio_from_async_via_thread(tw: FakeTwilio) -> None:
    async with LiveServer(tw.app) as server:
        client = tw.client(server.url)
        msg = await asyncio.to_thread(
            client.messages.create, to="+447700900123", from_="+447700900000", body="async"
        )
    assert msg.body == "async"


def test_recordings(tw: FakeTwilio, tw_server: LiveServer) -> None:
    call_sid = new_sid("CA")
    rec_sid = tw.add_recording(call_sid, duration=12)
    rec = tw.client(tw_server.url).recordings(rec_sid).fetch()
    assert rec.call_sid == call_sid and rec.duration == "12"
    media = f"{tw_server.url}/2010-04-01/Accounts/{tw.account_sid}/Recordings/{rec_sid}.mp3"
    r = httpx.get(media, auth=(tw.account_sid, tw.auth_token))
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"
    assert r.content.startswith(b"ID3")
    assert httpx.get(media).status_code == 401
    missing = httpx.get(media.replace(rec_sid, new_sid("RE")), auth=(tw.account_sid, tw.auth_token))
    assert missing.status_code == 404 and missing.json()["code"] == 20404


def test_signed_webhook_validates() -> None:
    token = "t" * 32
    url = "https://helpline.example/twilio/sms"
    form = sms_form(new_sid("SM"), "+447700900123", "+447700900000", "Hi", new_sid("AC"))
    headers = signed_post_headers(url, form, token)
    validator = RequestValidator(token)
    assert validator.validate(url, form, headers["X-Twilio-Signature"])
    assert not validator.validate(url, {**form, "Body": "Hi!"}, headers["X-Twilio-Signature"])
    assert not RequestValidator("x" * 32).validate(url, form, headers["X-Twilio-Signature"])


def test_webhook_form_builders() -> None:
    sid = new_sid("SM")
    sms = sms_form(sid, "+447700900123", "+447700900000", "Hello", "AC1")
    assert sms["MessageSid"] == sms["SmsMessageSid"] == sid
    assert {"AccountSid", "NumMedia", "NumSegments", "ApiVersion"} <= sms.keys()
    wa = whatsapp_form(sid, "+447700900123", "+447700900000", "Hello")
    assert wa["From"] == "whatsapp:+447700900123" and wa["WaId"] == "447700900123"
    assert wa["ProfileName"] == "Sam"
    call = voice_form(new_sid("CA"), "+447700900123", "+441234567890", "in-progress", "1")
    assert call["Digits"] == "1" and call["CallStatus"] == "in-progress"
    assert "Digits" not in voice_form(new_sid("CA"), "+447700900123", "+441234567890")
    rec = recording_status_form(new_sid("CA"), new_sid("RE"), 9, "https://api.twilio.com/x")
    assert rec["RecordingDuration"] == "9" and rec["RecordingStatus"] == "completed"
