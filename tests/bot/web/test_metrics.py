"""/metrics during a conversation: the counters move, the gauges read the store, no personal
data in any label, and nobody without the token reads it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from bot.core.services import Services
from bot.web.app import create_app
from bot.web.messaging import Messaging
from tests.bot.channels.conftest import PUBLIC_URL, drain, messages, post_twilio
from tests.bot.channels.test_sms import PARENT, SMS_ANSWERS, Texter
from tests.bot.channels.test_telegram import CHAT, TelegramParent
from tests.bot.dashboard.helpers import token
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram, update_message
from tests.fakes.twilio_api import FakeTwilio, new_sid

TOKEN = "scrape-token-for-tests"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def scraped(channel_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a metrics token, and a client that sends it."""
    settings = replace(channel_services.settings, metrics_token=TOKEN)
    app: Starlette = create_app(
        settings, services=replace(channel_services, settings=settings), migrate=False
    )
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://10.0.0.5:8080", headers=headers
    ) as http:
        yield http
    await app.state.messaging.stop()


async def scrape(http: httpx.AsyncClient) -> Samples:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert PARENT not in response.text and str(CHAT) not in response.text
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counters_move_during_a_conversation(
    scraped: httpx.AsyncClient,
    client: httpx.AsyncClient,
    tw: FakeTwilio,
    tg: FakeTelegram,
    messaging: Messaging,
    clock: FakeClock,
) -> None:
    before = await scrape(scraped)
    texter = Texter(client, tw)
    await texter.send("Hello")
    sid = new_sid("SM")
    await texter.send("yes", sid)
    assert (
        messages(await post_twilio(client, "/twilio/sms", texter.form("yes", sid), tw.auth_token))
        == []
    )
    forged = await client.post("/twilio/sms", data=texter.form("forged"))
    assert forged.status_code == 403
    for answer in SMS_ANSWERS[1:]:
        replies = await texter.send(answer)
    assert "Your reference is PP-" in replies[-1]
    parent = TelegramParent(client, tg)
    assert await parent.post(update_message(parent.next_id(), CHAT, "/start")) == 200
    await drain(messaging, clock)
    tg.fail_next("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    assert await parent.post(update_message(parent.next_id(), CHAT, "hello")) == 200
    await drain(messaging, clock)

    after = await scrape(scraped)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    texts = 1 + 1 + len(SMS_ANSWERS[1:])
    assert moved("helpline_messages_in_total", channel="sms", outcome="new") == texts
    assert moved("helpline_messages_in_total", channel="sms", outcome="redelivery") == 1
    assert moved("helpline_messages_in_total", channel="telegram", outcome="new") == 2
    assert moved("helpline_messages_out_total", channel="sms", outcome="replied") >= texts
    assert moved("helpline_messages_out_total", channel="telegram", outcome="sent") >= 1
    assert moved("helpline_messages_out_total", channel="telegram", outcome="failed") == 1
    failure = {"channel": "telegram", "kind": "blocked_by_the_user"}
    assert moved("helpline_send_failures_total", **failure) == 1
    latency = "helpline_webhook_seconds_count"
    assert moved(latency, route="twilio_sms", status="200") == texts + 1
    assert moved(latency, route="twilio_sms", status="403") == 1
    assert moved(latency, route="telegram", status="200") == 2
    # The gauges read the store: the SMS intake left one open callback, nothing overdue yet.
    assert value(after, "helpline_callbacks_open") == 1
    assert value(after, "helpline_callbacks_urgent") == 0
    assert value(after, "helpline_callbacks_overdue") == 0
    assert value(after, "helpline_store_up") == 1
    clock.advance(days=3)
    assert value(await scrape(scraped), "helpline_callbacks_overdue") == 1


async def test_the_outbox_backlog_and_its_age_are_gauged(
    scraped: httpx.AsyncClient, client: httpx.AsyncClient, tg: FakeTelegram, clock: FakeClock
) -> None:
    parent = TelegramParent(client, tg)
    await parent.post(update_message(parent.next_id(), CHAT, "/start"))  # queued, not drained
    clock.advance(minutes=7)
    samples = await scrape(scraped)
    assert value(samples, "helpline_outbox_backlog", channel="telegram") >= 1
    assert value(samples, "helpline_outbox_oldest_due_seconds") == 7 * 60


async def test_metrics_are_404_without_a_token_and_401_with_a_wrong_one(
    app: Starlette, scraped: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/metrics")).status_code == 404  # HELPLINE_METRICS_TOKEN unset
    wrong = await scraped.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    bare = await scraped.get("/metrics", headers={"Authorization": TOKEN})
    assert bare.status_code == 401


async def test_login_failures_are_counted_without_the_email(
    app: Starlette, scraped: httpx.AsyncClient
) -> None:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as browser:
        page = await browser.get("/staff/login")
        for _ in range(2):
            failed = await browser.post(
                "/staff/login",
                data={"email": "nobody@council.gov.uk", "password": "wrong"},
                headers={"X-CSRFToken": token(page), "HX-Request": "true"},
            )
            assert failed.status_code == 401, failed.text
    response = await scraped.get("/metrics")
    assert "nobody" not in response.text
    assert value(await scrape(scraped), "helpline_login_failures_last_hour") == 2
