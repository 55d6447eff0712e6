"""Set-up shared by the queue tests: staff, a rota, and enquiries received at given times."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from bot.core.services import Services
from bot.core.settings import Settings
from bot.domain.callbacks import open_callback, unused_reference
from bot.wiring import build_services
from storage.models import Callback, Contact, Enquiry, OutboxMessage, RotaDay, Staff
from tests.conftest import FakeClock

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"


def queue_settings(settings: Settings, **changes: object) -> Settings:
    defaults: dict[str, object] = {
        "smtp_url": "smtp://127.0.0.1:1?tls=none",
        "mail_from": "helpline@council.gov.uk",
        "telegram_bot_token": TOKEN,
        "public_url": "https://helpline.example.org",
    }
    defaults.update(changes)
    return replace(settings, **defaults)  # type: ignore[arg-type]


def services_with(settings: Settings, clock: FakeClock, **changes: object) -> Services:
    return build_services(queue_settings(settings, **changes), now=clock)


async def add_staff(
    services: Services, email: str, role: str = "officer", chat_id: str | None = None
) -> int:
    async with services.sessions.begin() as session:
        staff = Staff(
            email=email,
            name=email.split("@")[0].title(),
            role=role,
            telegram_chat_id=chat_id,
            languages="en",
            active=True,
            session_version=1,
            created_at=services.now(),
        )
        session.add(staff)
        await session.flush()
        return staff.id


async def on_duty_every_weekday(services: Services, staff_id: int | None) -> None:
    async with services.sessions.begin() as session:
        for weekday in range(5):
            session.add(RotaDay(weekday=weekday, staff_id=staff_id))


async def receive(
    services: Services,
    received_at: datetime,
    *,
    channel: str = "telegram",
    address: str | None = None,
    urgent: bool = False,
    language: str = "en",
) -> str:
    """An enquiry received at `received_at` with its callback, as the router would make it."""
    async with services.sessions.begin() as session:
        contact = Contact(
            channel=channel,
            address=address or str(uuid.uuid4().int % 10**9),
            language=language,
            opted_out=False,
            unreachable=False,
            created_at=received_at,
            last_seen_at=received_at,
        )
        session.add(contact)
        await session.flush()
        enquiry = Enquiry(
            reference=await unused_reference(session, "PP-"),
            contact_id=contact.id,
            channel=channel,
            language=language,
            received_at=received_at,
            callback_phone="+447700900123",
            description="My son is not coping at school",
            urgent=urgent,
            incomplete=False,
            status="open",
            legal_hold=False,
            answers={},
        )
        session.add(enquiry)
        await session.flush()
        await open_callback(session, enquiry, services.clock, working_days=1, now=received_at)
        return enquiry.reference


async def callback_of(services: Services, reference: str) -> Callback:
    async with services.sessions() as session:
        callback = await session.scalar(
            select(Callback).join(Enquiry).where(Enquiry.reference == reference)
        )
        assert callback is not None
        return callback


async def outbox_rows(services: Services, **where: object) -> list[OutboxMessage]:
    async with services.sessions() as session:
        statement = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            statement = statement.where(getattr(OutboxMessage, name) == value)
        return list(await session.scalars(statement))
