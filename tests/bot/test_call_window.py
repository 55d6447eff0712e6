"""The promise follows the parent's best time to call, on the real router and store."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.core.services import Services
from bot.core.settings import DEFAULT_LANGUAGES, Settings
from storage.models import Callback
from tests.conftest import FakeClock, london, test_settings
from tests.parent import Parent

MORNING, AFTERNOON, ANY_TIME = "1", "2", "3"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return test_settings(db_url, languages=DEFAULT_LANGUAGES)


async def _callback(services: Services) -> Callback:
    async with services.sessions() as session:
        return (await session.scalars(select(Callback))).one()


async def test_afternoon_is_promised_for_the_afternoon_of_the_due_day(
    services: Services, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 26, 11, 9))  # Thursday: the target is Friday 11:09
    replies = await Parent(services, language="en").complete(best_time=AFTERNOON)
    text = replies[-1].text
    assert "An officer will call you on Friday 27 November in the afternoon, by 17:00." in text
    assert "11:09" not in text
    callback = await _callback(services)
    assert callback.due_at == london(2026, 11, 27, 17, 0)  # the queue orders by the promise
    assert callback.preferred_time == "afternoon"


async def test_morning_keeps_a_target_that_falls_in_the_morning(
    services: Services, clock: FakeClock
) -> None:
    replies = await Parent(services, language="en").complete(best_time=MORNING)  # Monday 10:00
    assert "on Tuesday 24 November in the morning, by 10:00." in replies[-1].text
    assert (await _callback(services)).due_at == london(2026, 11, 24, 10, 0)


async def test_morning_brings_an_afternoon_target_forward_to_noon(
    services: Services, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 23, 15, 30))
    replies = await Parent(services, language="en").complete(best_time=MORNING)
    assert "on Tuesday 24 November in the morning, by 12:00." in replies[-1].text
    assert (await _callback(services)).due_at == london(2026, 11, 24, 12, 0)


async def test_any_time_keeps_the_working_day_target(services: Services, clock: FakeClock) -> None:
    clock.set(london(2026, 11, 26, 11, 9))
    replies = await Parent(services, language="en").complete(best_time=ANY_TIME)
    assert "An officer will call you by 11:09 on Friday 27 November." in replies[-1].text
    assert (await _callback(services)).due_at == london(2026, 11, 27, 11, 9)


async def test_the_promise_is_in_the_parents_language(services: Services, clock: FakeClock) -> None:
    clock.set(london(2026, 11, 26, 11, 9))
    replies = await Parent(services, language="pl").complete(best_time=AFTERNOON)
    assert "Zadzwonimy po południu, do 17:00 (piątek 27 listopada)." in replies[-1].text
