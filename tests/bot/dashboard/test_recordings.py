"""A voicemail is played to a signed-in officer through the app, fetched with the account's
credentials; never to anyone signed out, never from a host that is not Twilio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from bot.core.services import Services
from bot.web.app import create_app
from bot.wiring import build_services
from storage.models import AuditEntry, Recording
from tests.bot.dashboard.helpers import add_staff, client_for, enquire, sign_in
from tests.conftest import FakeClock
from tests.fakes.server import LiveServer
from tests.fakes.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FAKE_MP3, FakeTwilio


@pytest.fixture
def twilio() -> Iterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    with LiveServer(fake.app) as server:
        yield fake, server.url


@pytest.fixture
async def voice_services(
    services: Services, twilio: tuple[FakeTwilio, str], clock: FakeClock
) -> AsyncIterator[Services]:
    settings = replace(
        services.settings,
        twilio_account_sid=DEFAULT_ACCOUNT_SID,
        twilio_auth_token=DEFAULT_AUTH_TOKEN,
        twilio_api_base_url=twilio[1],
    )
    built = build_services(settings, now=clock)
    yield built
    await built.close()


@pytest.fixture
async def client(voice_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(voice_services.settings, services=voice_services, migrate=False)
    async with client_for(app) as http:
        yield http


async def _recording(services: Services, fake: FakeTwilio, url_host: str) -> int:
    enquiry = await enquire(services)
    sid = fake.add_recording("CA" + "1" * 32)
    url = f"{url_host}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Recordings/{sid}"
    async with services.sessions.begin() as session:
        recording = Recording(
            enquiry_id=enquiry.id,
            call_sid="CA" + "1" * 32,
            recording_sid=sid,
            duration_seconds=7,
            url=url,
            created_at=services.now(),
        )
        session.add(recording)
        await session.flush()
        return recording.id


async def test_an_officer_plays_a_voicemail_through_the_app(
    voice_services: Services, twilio: tuple[FakeTwilio, str], client: httpx.AsyncClient
) -> None:
    recording_id = await _recording(voice_services, twilio[0], "https://api.twilio.com")
    signed_out = await client.get(f"/staff/recordings/{recording_id}")
    assert signed_out.status_code in {302, 303, 401, 403}
    assert signed_out.content != FAKE_MP3
    await add_staff(voice_services, "olu@example.org", "officer")
    await sign_in(client, "olu@example.org")
    played = await client.get(f"/staff/recordings/{recording_id}")
    assert played.status_code == 200
    assert played.headers["content-type"] == "audio/mpeg"
    assert played.content == FAKE_MP3
    assert played.headers["cache-control"] == "no-store"
    async with voice_services.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "play recording" in " ".join(actions).replace("_", " ")


async def test_credentials_never_go_to_a_host_that_is_not_twilio(
    voice_services: Services, twilio: tuple[FakeTwilio, str], client: httpx.AsyncClient
) -> None:
    recording_id = await _recording(voice_services, twilio[0], "https://evil.example.org")
    await add_staff(voice_services, "olu@example.org", "officer")
    await sign_in(client, "olu@example.org")
    refused = await client.get(f"/staff/recordings/{recording_id}")
    assert refused.status_code == 502
    assert len(twilio[0].requests) == 0
    missing = await client.get("/staff/recordings/999999")
    assert missing.status_code == 404
