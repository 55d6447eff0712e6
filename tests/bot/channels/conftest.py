"""Fixtures for the messaging channels: the fake Telegram and Twilio servers on real sockets,
the app wired to them, and helpers to post signed webhooks and empty the outbox."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.core.services import Services
from bot.core.settings import Settings
from bot.web.app import create_app
from bot.web.messaging import Messaging
from bot.wiring import build_services
from storage.models import Base, OutboxMessage
from tests.conftest import FakeClock
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio, signed_post_headers

PUBLIC_URL = "https://helpline.example.org"
WEBHOOK_SECRET = "s3cret-Webhook_token"
SERVICE_NUMBER = "+441632960000"
WHATSAPP_NUMBER = "+441632960001"


@pytest.fixture
def tg() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
def tw() -> FakeTwilio:
    return FakeTwilio()


@pytest.fixture
def tg_server(tg: FakeTelegram) -> Iterator[LiveServer]:
    with LiveServer(tg.app) as server:
        yield server


@pytest.fixture
def tw_server(tw: FakeTwilio) -> Iterator[LiveServer]:
    with LiveServer(tw.app) as server:
        yield server


@pytest.fixture
def channel_settings(
    settings: Settings,
    tg: FakeTelegram,
    tw: FakeTwilio,
    tg_server: LiveServer,
    tw_server: LiveServer,
) -> Settings:
    return replace(
        settings,
        public_url=PUBLIC_URL,
        telegram_bot_token=tg.token,
        telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_api_base_url=f"{tg_server.url}/bot",
        twilio_account_sid=tw.account_sid,
        twilio_auth_token=tw.auth_token,
        twilio_phone_number=SERVICE_NUMBER,
        twilio_whatsapp_number=WHATSAPP_NUMBER,
        twilio_api_base_url=tw_server.url,
    )


@pytest.fixture
async def channel_services(channel_settings: Settings, clock: FakeClock) -> AsyncIterator[Services]:
    built = build_services(channel_settings, now=clock)
    yield built
    await built.close()


@pytest.fixture
async def app(channel_services: Services) -> AsyncIterator[Starlette]:
    built = create_app(channel_services.settings, services=channel_services, migrate=False)
    yield built
    await built.state.messaging.stop()


@pytest.fixture
def messaging(app: Starlette) -> Messaging:
    found: Messaging = app.state.messaging
    return found


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    # Requests arrive at an internal host, as behind a proxy; Twilio signs the public URL.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8080") as http:
        yield http


async def post_twilio(
    client: httpx.AsyncClient,
    path: str,
    form: dict[str, str],
    auth_token: str,
    *,
    signed_url: str | None = None,
) -> httpx.Response:
    url = signed_url or PUBLIC_URL + path
    return await client.post(path, data=form, headers=signed_post_headers(url, form, auth_token))


def messages(response: httpx.Response) -> list[str]:
    """The texts of the TwiML <Message> elements of a webhook's answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return [element.text or "" for element in root.iter("Message")]


async def count_rows(services: Services) -> dict[str, int]:
    """Rows in every table: a forged request must leave all of them as they were."""
    counts: dict[str, int] = {}
    async with services.sessions() as session:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = int(
                await session.scalar(select(func.count()).select_from(table)) or 0
            )
    return counts


async def pending(services: Services) -> int:
    async with services.sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending")
                .where(OutboxMessage.channel.in_(("telegram", "sms", "whatsapp")))
            )
            or 0
        )


async def drain(messaging: Messaging, clock: FakeClock, rounds: int = 120) -> None:
    """Run the dispatcher, a (fake) second at a time, until nothing of ours is pending."""
    services = messaging.services
    for _ in range(rounds):
        await messaging.dispatcher.run_once(clock())
        if not await pending(services):
            return
        clock.advance(seconds=1)
    raise AssertionError("the outbox did not empty")


async def outbox_rows(services: Services, *, staff: bool = False) -> list[OutboxMessage]:
    """Rows bound for parents; staff alerts (email, staff Telegram) have their own dispatcher."""
    async with services.sessions() as session:
        statement = select(OutboxMessage).order_by(OutboxMessage.id)
        if not staff:
            parent_bound = OutboxMessage.channel.in_(("telegram", "sms", "whatsapp"))
            statement = statement.where(parent_bound)
        return list(await session.scalars(statement))


def form_value(params: dict[str, Any], key: str) -> str:
    return str(params.get(key, ""))
