"""Officers reach parents from the case: calls through the helpline's number (Twilio rings the
officer, then <Dial>s the parent with the service's caller ID; the parent leg logs the attempt)
and texts in the parent's language, only where the parent said a text is safe."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot.channels.twilio import calls
from bot.core.i18n import Catalogs
from bot.core.services import Services
from bot.domain import reach
from bot.web.messaging import Messaging
from flows.officer_messages import OFFICER_MESSAGES
from storage.models import (
    AuditEntry,
    CallAttempt,
    Callback,
    Enquiry,
    OfficerCall,
    OutboxMessage,
    Staff,
)
from tests.bot.dashboard.helpers import add_staff, enquire
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

from .conftest import PUBLIC_URL, SERVICE_NUMBER, count_rows, post_twilio

OFFICER_PHONE = "+447700900555"


async def _officer(services: Services, phone: str | None = OFFICER_PHONE) -> int:
    staff = await add_staff(services, "amira@example.org")
    async with services.sessions.begin() as session:
        found = await session.get(Staff, staff.id)
        assert found is not None
        found.phone = phone
    return staff.id


async def _place_call(services: Services, enquiry_id: int, staff_id: int) -> OfficerCall:
    async with services.sessions.begin() as session:
        enquiry = await session.get(Enquiry, enquiry_id)
        staff = await session.get(Staff, staff_id)
        assert enquiry is not None and staff is not None
        await session.refresh(enquiry, ["callback"])
        client = calls.twilio_client(services.settings)
        return await calls.start_call(
            session, services.settings, client, enquiry, staff, services.now()
        )


async def _attempts(services: Services, enquiry_id: int) -> list[CallAttempt]:
    async with services.sessions() as session:
        callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry_id))
        assert callback is not None
        rows = await session.scalars(
            select(CallAttempt).where(CallAttempt.callback_id == callback.id)
        )
        return list(rows)


def _path(url: str) -> str:
    assert url.startswith(PUBLIC_URL), url
    return url[len(PUBLIC_URL) :]


async def test_officer_calls_the_parent_through_the_helpline_number(
    app: Starlette, client: httpx.AsyncClient, channel_services: Services, tw: FakeTwilio
) -> None:
    enquiry = await enquire(channel_services)
    staff_id = await _officer(channel_services)
    call = await _place_call(channel_services, enquiry.id, staff_id)

    placed = tw.calls_made()
    assert len(placed) == 1
    params = placed[0]["params"]
    assert params["To"] == OFFICER_PHONE and params["From"] == SERVICE_NUMBER
    assert "Record" not in params  # calls are not recorded unless the service decides so
    assert call.call_sid == placed[0]["sid"]

    # The officer answers: Twilio fetches the URL, we name the case and dial the parent.
    answered = await post_twilio(
        client,
        _path(params["Url"]),
        {"CallSid": call.call_sid or "", "CallStatus": "in-progress"},
        tw.auth_token,
    )
    root = ET.fromstring(answered.text)
    said = " ".join(e.text or "" for e in root.iter("Say"))
    assert "Connecting you to the parent for" in said
    dial = root.find("Dial")
    assert dial is not None and dial.get("callerId") == SERVICE_NUMBER
    number = dial.find("Number")
    assert number is not None and number.text == enquiry.callback_phone
    assert OFFICER_PHONE not in answered.text

    # The parent talks for 95 s: the <Dial> action logs "spoke" and stamps the SLA.
    dialled = {
        "CallSid": call.call_sid or "",
        "DialCallStatus": "completed",
        "DialCallDuration": "95",
    }
    action = _path(dial.get("action") or "")
    for _ in range(2):  # Twilio may deliver it twice: one attempt all the same
        response = await post_twilio(client, action, dialled, tw.auth_token)
        assert response.status_code == 200
    attempts = await _attempts(channel_services, enquiry.id)
    assert [a.outcome for a in attempts] == ["spoke"]
    assert attempts[0].staff_id == staff_id and "95 s" in (attempts[0].note or "")
    async with channel_services.sessions() as session:
        callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry.id))
        assert callback is not None and callback.first_spoke_at is not None
        assert callback.first_attempt_at is not None
        audited = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.enquiry_id == enquiry.id)
        )
        assert "call parent" in list(audited)


async def test_an_unanswered_parent_is_logged_as_no_answer(
    app: Starlette, client: httpx.AsyncClient, channel_services: Services, tw: FakeTwilio
) -> None:
    enquiry = await enquire(channel_services)
    call = await _place_call(channel_services, enquiry.id, await _officer(channel_services))
    form = {"CallSid": call.call_sid or "", "DialCallStatus": "no-answer", "DialCallDuration": "0"}
    response = await post_twilio(
        client, f"/twilio/officer-call/{call.id}/dialled", form, tw.auth_token
    )
    assert response.status_code == 200
    attempts = await _attempts(channel_services, enquiry.id)
    assert [a.outcome for a in attempts] == ["no_answer"]
    async with channel_services.sessions() as session:
        callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry.id))
        assert callback is not None and callback.first_attempt_at is None  # not reached


async def test_forged_call_webhooks_get_403_and_write_nothing(
    app: Starlette, client: httpx.AsyncClient, channel_services: Services, tw: FakeTwilio
) -> None:
    enquiry = await enquire(channel_services)
    call = await _place_call(channel_services, enquiry.id, await _officer(channel_services))
    before = await count_rows(channel_services)
    form = {"CallSid": call.call_sid or "", "DialCallStatus": "completed", "DialCallDuration": "60"}
    for step in ("connect", "dialled", "status"):
        forged = await post_twilio(client, f"/twilio/officer-call/{call.id}/{step}", form, "0" * 32)
        assert forged.status_code == 403
    assert await count_rows(channel_services) == before


async def test_a_call_needs_the_officers_phone(channel_services: Services) -> None:
    enquiry = await enquire(channel_services)
    staff_id = await _officer(channel_services, phone=None)
    with pytest.raises(reach.ReachError, match="Add your phone number"):
        await _place_call(channel_services, enquiry.id, staff_id)


@pytest.mark.parametrize("raw", ["07700 900123", "+44 7700 900123"])
def test_staff_phone_is_stored_as_e164(raw: str) -> None:
    assert reach.check_staff_phone(raw) == "+447700900123"


def test_a_wrong_staff_phone_is_refused() -> None:
    with pytest.raises(reach.ReachError, match="not a phone number"):
        reach.check_staff_phone("call me maybe")


async def test_an_urdu_parent_is_texted_in_urdu_and_it_counts_as_an_attempt(
    app: Starlette,
    messaging: Messaging,
    channel_services: Services,
    tg: FakeTelegram,
    clock: FakeClock,
) -> None:
    services = channel_services
    enquiry = await enquire(services)
    async with services.sessions.begin() as session:  # the parent chose Urdu at the start
        found = await session.get(Enquiry, enquiry.id)
        assert found is not None
        found.language = "ur"
    staff_id = await _officer(services)
    catalogs = Catalogs(("en", "ur"))  # a service that offers Urdu
    async with services.sessions.begin() as session:
        found = await session.get(Enquiry, enquiry.id)
        staff = await session.get(Staff, staff_id)
        assert found is not None and staff is not None
        await session.refresh(found, ["callback"])
        told = await reach.send_text(
            session,
            services.settings,
            services.clock,
            catalogs,
            found,
            staff,
            services.now(),
            key="tried",
        )
    assert "telegram" in told
    urdu = catalogs.gettext("ur")(OFFICER_MESSAGES["tried"])
    assert urdu != OFFICER_MESSAGES["tried"]  # the catalog really translates it
    async with services.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "officer"))
        assert row is not None and row.enquiry_id == enquiry.id
        text = row.payload["text"]
        assert enquiry.reference in text and "کوشش" in text  # "we tried", in Urdu
        assert "we tried" not in text
    assert [a.outcome for a in await _attempts(services, enquiry.id)] == ["message"]

    for _ in range(60):  # the intake's own replies go first, one a second per chat
        await messaging.dispatcher.run_once(clock.advance(seconds=2))
    sent = [m["text"] for m in tg.sent_messages()]
    assert any(enquiry.reference in text and "کوشش" in text for text in sent), sent


async def test_a_parent_who_said_texts_are_not_safe_cannot_be_texted(
    channel_services: Services,
) -> None:
    enquiry = await enquire(channel_services, voicemail_ok=False)
    staff_id = await _officer(channel_services)
    services = channel_services
    async with services.sessions.begin() as session:
        found = await session.get(Enquiry, enquiry.id)
        staff = await session.get(Staff, staff_id)
        assert found is not None and staff is not None
        await session.refresh(found, ["callback"])
        with pytest.raises(reach.ReachError, match="did not say a text"):
            await reach.send_text(
                session,
                services.settings,
                services.clock,
                services.catalogs,
                found,
                staff,
                services.now(),
                free_text="Hello",
            )
    async with services.sessions() as session:
        assert (
            await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "officer"))
            is None
        )
    assert await _attempts(services, enquiry.id) == []
