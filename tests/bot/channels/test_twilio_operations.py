"""Twilio's fallback URL stores and answers exactly as /twilio/sms does (one inbox, one
de-duplication), and its debugger webhook tells the admins the error code and nothing else."""

from __future__ import annotations

import json

import httpx

from bot.core.services import Services
from storage.models import InboxMessage
from tests.bot.channels.conftest import count_rows, messages, post_twilio
from tests.bot.channels.test_sms import PARENT, Texter
from tests.bot.queue_helpers import add_staff, outbox_rows
from tests.fakes.twilio_api import FakeTwilio, new_sid
from tests.parent import count


async def test_the_fallback_stores_and_answers_like_the_main_webhook(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    texter = Texter(client, tw)
    sid = new_sid("SM")
    fallback = await post_twilio(
        client, "/twilio/fallback", texter.form("Hello", sid), tw.auth_token
    )
    assert "Welcome to" in messages(fallback)[0]
    assert await count(channel_services, InboxMessage, InboxMessage.channel == "sms") == 1
    # Twilio tries the main URL again later with the same MessageSid: nothing twice.
    again = await post_twilio(client, "/twilio/sms", texter.form("Hello", sid), tw.auth_token)
    assert messages(again) == []
    assert await count(channel_services, InboxMessage) == 1
    replies = await texter.send("yes")  # the conversation goes on at the main URL
    assert replies and "Welcome to" not in replies[0]


async def test_an_unsigned_fallback_or_error_report_gets_403_and_writes_nothing(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    before = await count_rows(channel_services)
    form = Texter(client, tw).form("Hello")
    assert (await client.post("/twilio/fallback", data=form)).status_code == 403
    signed_for_sms = await post_twilio(
        client,
        "/twilio/fallback",
        form,
        tw.auth_token,
        signed_url="https://helpline.example.org/twilio/sms",
    )
    assert signed_for_sms.status_code == 403
    assert (await client.post("/twilio/errors", data={"Level": "ERROR"})).status_code == 403
    assert await count_rows(channel_services) == before


def debugger_event(tw: FakeTwilio, code: str, account: str | None = None) -> dict[str, str]:
    """The form Twilio's debugger webhook posts; its payload echoes the failed request."""
    payload = {
        "resource_sid": new_sid("SM"),
        "error_code": code,
        "more_info": {"Msg": "HTTP retrieval failure", "From": PARENT, "Body": "my son"},
        "webhook": {"request": {"url": "https://helpline.example.org/twilio/sms"}},
    }
    return {
        "AccountSid": account or tw.account_sid,
        "Sid": new_sid("NO"),
        "ParentAccountSid": "",
        "Timestamp": "2026-11-23T10:00:00Z",
        "Level": "ERROR",
        "PayloadType": "application/json",
        "Payload": json.dumps(payload),
    }


async def test_a_debugger_event_alerts_the_admins_with_the_code_only(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    await add_staff(channel_services, "ops@council.gov.uk", role="admin", chat_id="3003")
    await add_staff(channel_services, "amy@council.gov.uk", role="officer", chat_id="4004")
    for _ in range(2):  # the same error again within the hour: one alert
        sent = await post_twilio(
            client, "/twilio/errors", debugger_event(tw, "11200"), tw.auth_token
        )
        assert sent.status_code == 204
    other = await post_twilio(client, "/twilio/errors", debugger_event(tw, "30003"), tw.auth_token)
    assert other.status_code == 204
    rows = await outbox_rows(channel_services, channel="staff")
    assert [(r.address, r.kind) for r in rows] == [
        ("telegram:3003", "ops:twilio_11200"),
        ("telegram:3003", "ops:twilio_30003"),
    ]
    text = rows[0].payload["text"]
    assert "Twilio Error 11200" in text and "errors/11200" in text
    assert PARENT not in text and "my son" not in text
    stranger = debugger_event(tw, "11200", account="AC" + "0" * 32)
    refused = await post_twilio(client, "/twilio/errors", stranger, tw.auth_token)
    assert refused.status_code == 400
