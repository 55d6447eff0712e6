"""The report's figures against an independent count of generated casework, on both stores."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from bot.core.services import Services
from bot.reports import Period, build_report
from bot.reports.categories import CASE_CATEGORIES, TOPIC_CATEGORY
from bot.reports.responses import ResponseShare
from bot.reports.tables import cases as cases_table
from tests.bot.reports import generate
from tests.bot.reports.generate import Contact, History, local_day
from tests.conftest import FakeClock, london

HEARD = {
    "school": "School or college",
    "School": "School or college",
    "council": "The council",
    "website": "Website or internet search",
    "Website or internet search": "Website or internet search",
    "leaflet": "Leaflet or poster",
    "GP": "GP",
    None: "Not recorded",
}

SCENARIOS = {
    # Across a year boundary, with Christmas and New Year bank holidays.
    "year-boundary": (date(2025, 12, 1), date(2026, 1, 31), london(2026, 1, 20, 12, 0)),
    # Across the clocks going forward (29 March 2026) and Easter (3-6 April 2026).
    "clocks-change": (date(2026, 3, 16), date(2026, 4, 12), london(2026, 4, 20, 9, 0)),
}


def within(day: date, start: date, end: date) -> bool:
    return start <= day <= end


def expected_cases(
    contacts: list[Contact], past: list[History], start: date, end: date
) -> Counter[str]:
    found: Counter[str] = Counter()
    for c in contacts:
        if within(local_day(c.received_at), start, end):
            found[c.category or TOPIC_CATEGORY.get(c.topic or "", "Other")] += 1
    for h in past:
        if within(h.received_on, start, end):
            found[h.category] += 1
    return found


def expected_actions(
    contacts: list[Contact], past: list[History], start: date, end: date
) -> Counter[str]:
    found: Counter[str] = Counter()
    for c in contacts:
        for category, at in c.actions:
            if within(local_day(at), start, end):
                found[category] += 1
    for h in past:
        if h.actions and within(h.received_on, start, end):
            assert h.action_category
            found[h.action_category] += h.actions
    return found


def expected_shares(
    contacts: list[Contact], buckets: list[tuple[str, date]], end: date, now: datetime
) -> list[ResponseShare]:
    shares = []
    for i, (label, first) in enumerate(buckets):
        last = buckets[i + 1][1] - timedelta(days=1) if i + 1 < len(buckets) else end
        mine = [c for c in contacts if within(local_day(c.received_at), first, last)]
        a_due = [c for c in mine if c.first_attempt_at is not None or c.due_at <= now]
        s_due = [c for c in mine if c.first_spoke_at is not None or c.due_at <= now]
        shares.append(
            ResponseShare(
                label,
                len(mine),
                len(a_due),
                sum(1 for c in a_due if c.first_attempt_at and c.first_attempt_at <= c.due_at),
                len(s_due),
                sum(1 for c in s_due if c.first_spoke_at and c.first_spoke_at <= c.due_at),
            )
        )
    return shares


def nearest_rank(values: list[timedelta], share: float) -> timedelta:
    return sorted(values)[math.ceil(share * len(values)) - 1]


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_figures_match_an_independent_count(
    services: Services, clock: FakeClock, scenario: str
) -> None:
    start, end, now = SCENARIOS[scenario]
    clock.set(now)
    working = services.clock
    since = london(start.year, start.month, start.day) - timedelta(days=6)
    until = london(end.year, end.month, end.day) + timedelta(days=7)
    earlier = Period(start, end).a_year_earlier()
    contacts = generate.contacts(1, since, until, 220, working) + generate.contacts(
        2, since - timedelta(days=365), until - timedelta(days=365), 80, working
    )
    past = generate.history(3, earlier.start - timedelta(days=5), end + timedelta(days=5), 150)
    async with services.sessions.begin() as session:
        await generate.insert(session, contacts, past)

    report = await build_report(services, Period(start, end))

    assert report.current.cases == expected_cases(contacts, past, start, end)
    assert report.previous.cases == expected_cases(contacts, past, earlier.start, earlier.end)
    assert report.current.actions == expected_actions(contacts, past, start, end)
    assert report.previous.actions == expected_actions(contacts, past, earlier.start, earlier.end)
    inside = [c for c in contacts if within(local_day(c.received_at), start, end)]
    assert report.current.contacts == len(inside)
    assert report.current.channels == Counter(c.channel for c in inside)
    assert report.current.languages == Counter(c.language for c in inside)
    assert report.current.urgent == sum(c.urgent for c in inside)
    assert report.current.out_of_hours == sum(not working.is_open(c.received_at) for c in inside)
    heard = Counter(HEARD[c.heard_from] for c in inside)
    heard.update(HEARD[h.heard_from] for h in past if within(h.received_on, start, end))
    assert report.current.heard_from == heard

    period = report.period
    assert report.months == expected_shares(contacts, period.months(), end, now)
    assert report.weeks == expected_shares(contacts, period.weeks(), end, now)

    took = [
        working.working_time_between(c.received_at, c.first_attempt_at)
        for c in inside
        if c.first_attempt_at is not None
    ]
    assert report.times.responded == len(took)
    assert report.times.median is not None and report.times.p90 is not None
    assert abs(report.times.median - nearest_rank(took, 0.5)) <= timedelta(seconds=1)
    assert abs(report.times.p90 - nearest_rank(took, 0.9)) <= timedelta(seconds=1)

    rated = [
        c.rating[0] for c in contacts if c.rating and within(local_day(c.rating[1]), start, end)
    ]
    assert report.satisfaction.responses == len(rated)
    assert report.satisfaction.satisfied == sum(r >= 4 for r in rated)

    grid = [[0] * 24 for _ in range(7)]
    for c in inside:
        local = c.received_at.astimezone(period.tz)
        grid[local.weekday()][local.hour] += 1
    assert report.hours == grid

    # Categories with no cases still have their row, with zeros.
    rows = {row[0]: row[1:] for row in cases_table(report).rows}
    assert list(rows)[: len(CASE_CATEGORIES)] == list(CASE_CATEGORIES)
    for unused in generate.UNUSED:
        assert rows[unused] == ["0", "0"]
    assert rows["Total"] == [
        str(sum(report.current.cases.values())),
        str(sum(report.previous.cases.values())),
    ]


async def test_an_empty_period_reports_zeros(services: Services) -> None:
    report = await build_report(services, Period(date(2026, 2, 1), date(2026, 2, 28)))
    assert report.current.contacts == 0 and not report.current.cases
    assert report.times.responded == 0 and report.times.median is None
    assert report.satisfaction.share is None
    assert [m.label for m in report.months] == ["2026-02"]
    assert all(w.attempted_share is None for w in report.weeks)
    assert report.hours == [[0] * 24 for _ in range(7)]


async def test_working_hour_percentiles_across_a_weekend(services: Services) -> None:
    """Friday 16:00 answered Monday 10:00 took 2 working hours, not 66 hours."""
    working = services.clock
    cases = [
        (london(2026, 11, 27, 16, 0), london(2026, 11, 30, 10, 0)),  # 1 h Fri + 1 h Mon
        (london(2026, 11, 28, 11, 0), london(2026, 11, 30, 9, 30)),  # Saturday: 30 min
        (london(2026, 11, 27, 9, 0), london(2026, 11, 27, 9, 10)),  # 10 min
    ]
    contacts = [
        Contact(
            r,
            "sms",
            "en",
            "bullying",
            None,
            None,
            False,
            working.next_opening(r),
            working.due_at(r),
            a,
            None,
        )
        for r, a in cases
    ]
    async with services.sessions.begin() as session:
        await generate.insert(session, contacts, [])
    report = await build_report(services, Period(date(2026, 11, 23), date(2026, 11, 29)))
    assert report.times.responded == 3
    assert report.times.median == timedelta(minutes=30)
    assert report.times.p90 == timedelta(hours=2)
    assert report.current.out_of_hours == 1
    assert report.months[0].attempted_in_time == 3
