"""An officer's text that does not arrive: Telegram's "blocked" (outbox worker) or Twilio's
"undelivered" (status callback) marks the case "unreachable by text" and tells the officer
once, by reference; a later text delivered clears it. WhatsApp: free text only inside the
24-hour window, the approved template outside it, and closed when no template is set."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from bot.core.services import Services
from bot.core.settings import Settings
from bot.domain import reach
from bot.web.messaging import Messaging
from storage.models import Callback, Contact, Enquiry, OutboxMessage, Staff
from tests.bot.dashboard.helpers import add_staff, enquire
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.parent import Parent

from .conftest import drain, post_twilio

STAFF_CHAT = "4242"


async def _assigned(services: Services, channel: str) -> tuple[Enquiry, str]:
    """An enquiry assigned to Amira (who gets notices on the staff Telegram), and the parent's
    address."""
    officer = await add_staff(services, "amira@example.org")
    enquiry = await enquire(services, channel=channel)
    async with services.sessions.begin() as session:
        staff = await session.get(Staff, officer.id)
        callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry.id))
        contact = await session.get(Contact, enquiry.contact_id)
        assert staff is not None and callback is not None and contact is not None
        staff.telegram_chat_id = STAFF_CHAT
        callback.assigned_to = staff.id
        return enquiry, contact.address


async def _text(services: Services, enquiry_id: int, **what: str) -> str:
    async with services.sessions.begin() as session:
        enquiry = await session.get(Enquiry, enquiry_id)
        staff = await session.scalar(select(Staff))
        assert enquiry is not None and staff is not None
        await session.refresh(enquiry, ["callback"])
        return await reach.send_text(
            session,
            services.settings,
            services.clock,
            services.catalogs,
            enquiry,
            staff,
            services.now(),
            **what,
        )


async def _state(services: Services, enquiry_id: int) -> tuple[Callback, list[OutboxMessage]]:
    async with services.sessions() as session:
        callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry_id))
        assert callback is not None
        notices = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "text_failed")
        )
        return callback, list(notices)


async def test_a_blocked_telegram_parent_makes_the_case_unreachable_by_text(
    app: Starlette,
    messaging: Messaging,
    channel_services: Services,
    tg: FakeTelegram,
    clock: FakeClock,
) -> None:
    services = channel_services
    enquiry, address = await _assigned(services, "telegram")
    await drain(messaging, clock)  # the intake's own replies first
    tg.block(int(address))
    await _text(services, enquiry.id, key="tried")
    await drain(messaging, clock)
    callback, notices = await _state(services, enquiry.id)
    assert callback.text_unreachable_at is not None
    [notice] = notices
    assert notice.channel == "staff" and notice.address == f"telegram:{STAFF_CHAT}"
    assert enquiry.reference in notice.payload["text"]
    assert "cannot meet his needs" not in notice.payload["text"]

    tg.unblock(int(address))  # they unblock the bot and write: a later text arrives
    await Parent(services, "telegram", address).say("sorry, I blocked you by mistake")
    await _text(services, enquiry.id, key="good_time")
    await drain(messaging, clock)
    callback, notices = await _state(services, enquiry.id)
    assert callback.text_unreachable_at is None and len(notices) == 1


async def test_an_undelivered_sms_flags_the_case_until_one_is_delivered(
    app: Starlette,
    client: httpx.AsyncClient,
    messaging: Messaging,
    channel_services: Services,
    tw: FakeTwilio,
    clock: FakeClock,
) -> None:
    services = channel_services
    enquiry, _ = await _assigned(services, "sms")
    await _text(services, enquiry.id, key="tried")
    await drain(messaging, clock)
    first = tw.sent_messages()[-1]["sid"]
    for _ in range(2):  # Twilio may say it twice: one notice
        status = {"MessageSid": first, "MessageStatus": "undelivered", "ErrorCode": "30003"}
        response = await post_twilio(client, "/twilio/status", status, tw.auth_token)
        assert response.status_code == 204
    callback, notices = await _state(services, enquiry.id)
    assert callback.text_unreachable_at is not None and len(notices) == 1

    await _text(services, enquiry.id, key="good_time")
    await drain(messaging, clock)
    second = tw.sent_messages()[-1]["sid"]
    delivered = {"MessageSid": second, "MessageStatus": "delivered"}
    await post_twilio(client, "/twilio/status", delivered, tw.auth_token)
    callback, _ = await _state(services, enquiry.id)
    assert callback.text_unreachable_at is None


def _whatsapp(seen_hours_ago: float | None, clock: FakeClock) -> Contact:
    seen = clock() - timedelta(hours=seen_hours_ago) if seen_hours_ago is not None else None
    return Contact(channel="whatsapp", address="+447700900123", last_inbound_at=seen)


@pytest.mark.parametrize("hours", [1, 23.9])
def test_inside_the_whatsapp_window_free_text_may_go(
    settings: Settings, clock: FakeClock, hours: float
) -> None:
    enquiry = Enquiry(voicemail_ok=True)
    contact = _whatsapp(hours, clock)
    assert reach.text_closed(settings, enquiry, contact, clock()) is None
    assert reach.free_text_closed(contact, clock()) is None


@pytest.mark.parametrize("hours", [24.1, None])
def test_outside_the_window_only_the_template_and_none_set_closes_the_box(
    settings: Settings, clock: FakeClock, hours: float | None
) -> None:
    enquiry, contact = Enquiry(voicemail_ok=True), _whatsapp(hours, clock)
    closed = reach.text_closed(settings, enquiry, contact, clock())
    assert closed is not None and "TWILIO_WHATSAPP_TEMPLATE_SID" in closed
    with_template = replace(settings, twilio_whatsapp_template_sid="HX" + "0" * 32)
    assert reach.text_closed(with_template, enquiry, contact, clock()) is None
    only = reach.free_text_closed(contact, clock())
    assert only is not None and "approved template" in only
