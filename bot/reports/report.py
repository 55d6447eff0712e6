"""One report: every figure of a period and of the same period a year earlier."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.services import Services
from bot.reports.categories import Categories
from bot.reports.periods import Period
from bot.reports.queries import Breakdown, breakdown
from bot.reports.responses import (
    ResponseShare,
    ResponseTimes,
    Satisfaction,
    hour_of_week,
    response_shares,
    response_times,
    satisfaction,
)


@dataclass(frozen=True)
class Report:
    period: Period
    earlier: Period
    names: Categories
    current: Breakdown
    previous: Breakdown
    months: list[ResponseShare]
    weeks: list[ResponseShare]
    times: ResponseTimes
    satisfaction: Satisfaction
    hours: list[list[int]]


async def build_report(services: Services, period: Period) -> Report:
    """Query the store for everything the tables and charts show (read only)."""
    names = Categories.from_settings(services.settings)
    earlier = period.a_year_earlier()
    now = services.now()
    async with services.sessions() as session:
        current = await breakdown(session, period, names)
        previous = await breakdown(session, earlier, names)
        months = await response_shares(session, period, period.months(), now)
        weeks = await response_shares(session, period, period.weeks(), now)
        times = await response_times(session, period, services.clock)
        rated = await satisfaction(session, period)
        hours = await hour_of_week(session, period)
        await session.rollback()
    return Report(period, earlier, names, current, previous, months, weeks, times, rated, hours)
