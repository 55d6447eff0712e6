"""Casework on the real store: SLA stamps, unanswered days, closing with the survey, feedback."""

from __future__ import annotations

import sys
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.conversation.router import Inbound
from bot.core.keys import session_secret as secret_key
from bot.core.services import Services
from bot.core.settings import Settings, SettingsError
from bot.domain import casework
from bot.web.dashboard.queue import PAGE, Filters, cursor_of, statement
from storage.models import Callback, Enquiry, OutboxMessage, Staff, SurveyResponse
from tests.bot.dashboard.helpers import add_staff, enquire
from tests.conftest import FakeClock, london


async def attempt(services: Services, enquiry_id: int, outcome: str) -> Callback:
    async with services.sessions.begin() as session:
        enquiry = await session.get(Enquiry, enquiry_id)
        staff = await session.scalar(select(Staff))
        assert enquiry is not None and staff is not None
        await session.refresh(enquiry, ["callback"])
        await casework.log_attempt(session, services.clock, enquiry, staff, outcome, services.now())
        assert enquiry.callback is not None
        return enquiry.callback


async def test_unanswered_calls_count_once_per_working_day_and_contact_meets_the_target(
    services: Services, clock: FakeClock
) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    assert (await attempt(services, enquiry.id, "no_answer")).unanswered_attempts == 1
    clock.advance(hours=2)
    callback = await attempt(services, enquiry.id, "wrong_number")
    assert callback.unanswered_attempts == 1 and callback.first_attempt_at is None
    clock.set(london(2026, 11, 24, 9, 30))
    callback = await attempt(services, enquiry.id, "no_answer")
    assert callback.unanswered_attempts == 2
    callback = await attempt(services, enquiry.id, "voicemail")
    assert callback.first_attempt_at == clock() and callback.met_target is True
    assert callback.first_spoke_at is None
    clock.set(london(2026, 11, 24, 11, 0))  # after the 10:00 deadline
    callback = await attempt(services, enquiry.id, "spoke")
    assert callback.first_attempt_at == london(2026, 11, 24, 9, 30)  # the first one counts
    assert callback.met_target is True and callback.first_spoke_at == clock()


async def test_a_late_first_contact_misses_the_target(services: Services, clock: FakeClock) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    clock.set(london(2026, 11, 24, 10, 1))
    callback = await attempt(services, enquiry.id, "message")
    assert callback.met_target is False


async def test_closing_sends_the_survey_and_the_answers_are_kept(
    services: Services, clock: FakeClock
) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    async with services.sessions.begin() as session:
        row = await session.get(Enquiry, enquiry.id)
        staff = await session.scalar(select(Staff))
        assert row is not None and staff is not None
        await session.refresh(row, ["callback"])
        closed = await casework.close_case(
            session, services.router, Settings().close_outcomes, row, staff, "Advice given", clock()
        )
    assert closed.survey_queued
    async with services.sessions() as session:
        survey = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "survey"))
        ).one()
    address = survey.address
    for text in ("4", "Knowing my rights at the annual review"):
        replies = await services.router.deliver(
            Inbound("telegram", address, uuid.uuid4().hex, text, clock())
        )
    assert "Thank you for your feedback" in replies[-1].text
    async with services.sessions() as session:
        response = (await session.scalars(select(SurveyResponse))).one()
    assert response.enquiry_id == enquiry.id and response.rating == 4
    assert response.helped == "Knowing my rights at the annual review"


async def test_no_survey_when_the_parent_did_not_agree_to_messages(services: Services) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services, voicemail_ok=False)
    async with services.sessions.begin() as session:
        row = await session.get(Enquiry, enquiry.id)
        staff = await session.scalar(select(Staff))
        assert row is not None and staff is not None
        await session.refresh(row, ["callback"])
        closed = await casework.close_case(
            session,
            services.router,
            Settings().close_outcomes,
            row,
            staff,
            "Advice given",
            services.now(),
        )
        with pytest.raises(casework.CaseworkError):
            await casework.log_attempt(session, services.clock, row, staff, "spoke", services.now())
    assert not closed.survey_queued and row.survey_sent_at is None


async def test_the_queue_pages_by_keyset_in_due_order_urgent_first(
    services: Services, clock: FakeClock
) -> None:
    for n in range(PAGE + 5):
        clock.advance(minutes=7)
        enquiry = await enquire(services)
        if n % 6 == 0:
            async with services.sessions.begin() as session:
                callback = await session.scalar(
                    select(Callback).where(Callback.enquiry_id == enquiry.id)
                )
                assert callback is not None
                callback.urgent = True
    seen: list[tuple[bool, object, int]] = []
    cursor = ""
    async with services.sessions() as session:
        while True:
            rows = (await session.execute(statement(Filters(), clock(), None, cursor))).all()
            page = rows[:PAGE]
            seen.extend((c.urgent, c.due_at, c.id) for c, _, _ in page)
            if len(rows) <= PAGE:
                break
            cursor = cursor_of(page[-1][0])
    assert len(seen) == PAGE + 5 and len({s[2] for s in seen}) == PAGE + 5
    assert seen == sorted(seen, key=lambda s: (not s[0], s[1], s[2]))


def test_the_dashboard_refuses_to_start_without_a_secret_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "pytest")
    monkeypatch.delenv("HELPLINE_EPHEMERAL_SECRET", raising=False)
    with pytest.raises(SettingsError, match="HELPLINE_SECRET_KEY"):
        secret_key(Settings())
    assert secret_key(replace(Settings(), secret_key="k" * 32)) == "k" * 32
    monkeypatch.setenv("HELPLINE_EPHEMERAL_SECRET", "1")
    assert len(secret_key(Settings())) >= 32
