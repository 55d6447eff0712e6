"""The annual report's counts, each a GROUP BY in the database over one period.

Contacts (enquiries) count by the local date they were received; imported history by its date;
casework by the time the action was logged. Only grouped rows leave the database: the Python
here merges a handful of groups into the report's category names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.categories import Categories, heard_from_name
from bot.reports.periods import Period
from storage.models import Callback, CaseAction, Enquiry, HistoricalCase


def _history_in(period: Period) -> ColumnElement[bool]:
    return and_(
        HistoricalCase.received_on >= period.start, HistoricalCase.received_on <= period.end
    )


@dataclass
class Breakdown:
    """The counts of one period."""

    period: Period
    cases: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    heard_from: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    contacts: int = 0
    imported: int = 0
    out_of_hours: int = 0
    urgent: int = 0


async def case_counts(session: AsyncSession, period: Period, names: Categories) -> Counter[str]:
    """Cases by issue: the officer's category, else the bot topic's, plus imported history."""
    counts: Counter[str] = Counter()
    rows = await session.execute(
        select(Enquiry.category, Enquiry.topic, func.count())
        .where(period.covers(Enquiry.received_at))
        .group_by(Enquiry.category, Enquiry.topic)
    )
    for category, topic, count in rows:
        raw = category if category and category.strip() else names.topic_case(topic)
        counts[names.case_name(raw)] += count
    history = await session.execute(
        select(HistoricalCase.category, func.count())
        .where(_history_in(period))
        .group_by(HistoricalCase.category)
    )
    for name, count in history:
        counts[names.case_name(name)] += count
    return counts


async def action_counts(session: AsyncSession, period: Period, names: Categories) -> Counter[str]:
    """Actions by issue: casework logged in the period, plus imported history's action counts."""
    counts: Counter[str] = Counter()
    rows = await session.execute(
        select(CaseAction.category, func.count())
        .where(period.covers(CaseAction.at))
        .group_by(CaseAction.category)
    )
    for category, count in rows:
        counts[names.action_name(category)] += count
    history = await session.execute(
        select(HistoricalCase.action_category, func.sum(HistoricalCase.actions))
        .where(_history_in(period), HistoricalCase.actions > 0)
        .group_by(HistoricalCase.action_category)
    )
    for action_category, total in history:
        counts[names.action_name(action_category)] += int(total or 0)
    return counts


async def heard_counts(session: AsyncSession, period: Period) -> Counter[str]:
    """How callers heard about the service, from the intake's answer and imported history."""
    counts: Counter[str] = Counter()
    for column, where in (
        (Enquiry.heard_from, period.covers(Enquiry.received_at)),
        (HistoricalCase.heard_from, _history_in(period)),
    ):
        rows = await session.execute(select(column, func.count()).where(where).group_by(column))
        for answer, count in rows:
            counts[heard_from_name(answer)] += count
    return counts


async def contact_profile(session: AsyncSession, breakdown: Breakdown) -> None:
    """Channels, languages, out-of-hours and urgent contacts of the period (bot contacts only).

    A contact came out of hours when its clock started later than it arrived: the clock starts
    at once while the office is open (bot.core.clock.WorkingClock.next_opening).
    """
    where = breakdown.period.covers(Enquiry.received_at)
    for column, target in (
        (Enquiry.channel, breakdown.channels),
        (Enquiry.language, breakdown.languages),
    ):
        for value, count in await session.execute(
            select(column, func.count()).where(where).group_by(column)
        ):
            target[value] += count
    closed = func.count(case((Callback.clock_started_at > Enquiry.received_at, 1)))
    urgent = func.count(case((Enquiry.urgent.is_(True), 1)))
    row = (
        await session.execute(
            select(func.count(Enquiry.id), closed, urgent)
            .select_from(Enquiry)
            .outerjoin(Callback, Callback.enquiry_id == Enquiry.id)
            .where(where)
        )
    ).one()
    breakdown.contacts, breakdown.out_of_hours, breakdown.urgent = (int(v or 0) for v in row)


async def breakdown(session: AsyncSession, period: Period, names: Categories) -> Breakdown:
    """Every count of the annual report's tables for one period."""
    result = Breakdown(period)
    result.cases = await case_counts(session, period, names)
    result.actions = await action_counts(session, period, names)
    result.heard_from = await heard_counts(session, period)
    result.imported = int(
        await session.scalar(select(func.count(HistoricalCase.id)).where(_history_in(period))) or 0
    )
    await contact_profile(session, result)
    return result
