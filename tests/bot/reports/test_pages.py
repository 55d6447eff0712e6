"""Reports opened again and again once call attempts exist: the same figures every time."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.applications import Starlette

from bot.core.services import Services
from bot.domain import casework
from bot.web.app import create_app
from storage.models import Enquiry, Staff
from tests.bot.dashboard.helpers import add_staff, client_for, enquire, sign_in
from tests.conftest import FakeClock


@pytest.fixture
def app(services: Services) -> Starlette:
    return create_app(services.settings, services=services, migrate=False)


async def _attempt(services: Services, enquiry_id: int, staff: Staff, outcome: str) -> None:
    async with services.sessions.begin() as session:
        enquiry = await session.scalar(
            select(Enquiry).options(selectinload(Enquiry.callback)).where(Enquiry.id == enquiry_id)
        )
        assert enquiry is not None
        await casework.log_attempt(session, services.clock, enquiry, staff, outcome, services.now())


async def test_reports_open_many_times_after_call_attempts(
    services: Services, app: Starlette, clock: FakeClock
) -> None:
    first = await enquire(services)
    second = await enquire(services, channel="sms")
    manager = await add_staff(services, "mo@example.org", "manager")
    clock.advance(hours=2)
    await _attempt(services, first.id, manager, "spoke")
    clock.advance(hours=1)
    await _attempt(services, second.id, manager, "voicemail")
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    async with client_for(app) as client:
        await sign_in(client, "mo@example.org")
        pages = [await client.get("/staff/reports", params=period) for _ in range(4)]
        files = [await client.get("/staff/reports.csv", params=period) for _ in range(4)]
    assert [p.status_code for p in pages + files] == [200] * 8
    # Median of 2 h and 3 h (nearest rank) and the 90th percentile, in working time.
    assert "2 h 00 min" in pages[-1].text and "3 h 00 min" in pages[-1].text
    assert len({f.text for f in files}) == 1
    assert "2026-11,2,2 of 2,100.0%,1 of 1,100.0%" in files[-1].text.splitlines()
