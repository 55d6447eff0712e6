"""The key performance indicators: responses within target, time to respond, satisfaction.

The SLA is met by the first recorded attempt (spoke, voicemail, message) by the callback's
``due_at``; the report shows "attempted" and "spoke" side by side. Time to first response is
counted in working hours (the clock's open time only), as WorkingClock.working_time_between
measures it, but computed in the database: a common table expression (VALUES) lists the period's
open intervals with the open time before each, so "working seconds since the start" is one lookup.
No temporary table: one left behind on a pooled connection broke every later report.
Percentiles are nearest-rank: the value at rank ceil(p × n) of the sorted times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    and_,
    case,
    column,
    func,
    select,
    values,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.reports.periods import Period, bucket
from bot.reports.sql import dialect, epoch, utc_hour, utc_weekday
from storage.models import Callback, Enquiry, SurveyResponse

RESPONSE_TARGET = 0.95
SATISFACTION_TARGET = 0.90
NEVER = 1e15  # epoch seconds, some 30 million years ahead
SATISFIED_FROM = 4  # a rating of 4 or 5 out of 5 counts as satisfied


@dataclass(frozen=True)
class ResponseShare:
    """Contacts of one month or week, and how many were answered by their due time.

    A contact not yet attempted whose due time is still ahead is pending: it is left out of
    the share's denominator until it is answered or falls due.
    """

    label: str
    contacts: int
    attempted_due: int
    attempted_in_time: int
    spoke_due: int
    spoke_in_time: int

    @property
    def attempted_share(self) -> float | None:
        return self.attempted_in_time / self.attempted_due if self.attempted_due else None

    @property
    def spoke_share(self) -> float | None:
        return self.spoke_in_time / self.spoke_due if self.spoke_due else None


@dataclass(frozen=True)
class ResponseTimes:
    responded: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class Satisfaction:
    responses: int
    satisfied: int

    @property
    def share(self) -> float | None:
        return self.satisfied / self.responses if self.responses else None


async def response_shares(
    session: AsyncSession, period: Period, buckets: list[tuple[str, date]], now: datetime
) -> list[ResponseShare]:
    """Per bucket (months or weeks of the period): contacts answered by their due time."""
    starts = [period.midnight(first) for _, first in buckets]
    attempt, spoke, due = Callback.first_attempt_at, Callback.first_spoke_at, Callback.due_at
    inner = (
        select(
            bucket(Enquiry.received_at, starts).label("bucket"),
            case((and_(attempt.is_not(None), attempt <= due), 1), else_=0).label("a_ok"),
            case((and_(attempt.is_(None), due > now), 1), else_=0).label("a_wait"),
            case((and_(spoke.is_not(None), spoke <= due), 1), else_=0).label("s_ok"),
            case((and_(spoke.is_(None), due > now), 1), else_=0).label("s_wait"),
        )
        .select_from(Enquiry)
        .join(Callback, Callback.enquiry_id == Enquiry.id)
        .where(period.covers(Enquiry.received_at))
        .subquery()
    )
    rows = await session.execute(
        select(
            inner.c.bucket,
            func.count(),
            func.sum(inner.c.a_ok),
            func.sum(inner.c.a_wait),
            func.sum(inner.c.s_ok),
            func.sum(inner.c.s_wait),
        ).group_by(inner.c.bucket)
    )
    found = {int(r[0]): [int(v or 0) for v in r[1:]] for r in rows}
    shares = []
    for index, (label, _) in enumerate(buckets):
        total, a_ok, a_wait, s_ok, s_wait = found.get(index, [0, 0, 0, 0, 0])
        shares.append(ResponseShare(label, total, total - a_wait, a_ok, total - s_wait, s_ok))
    return shares


def _interval_table(rows: list[dict[str, float]]) -> CTE:
    """The open intervals as a WITH ... AS (VALUES ...): it lives only as long as its query."""
    names = ("opens", "closes", "open_before")
    # VALUES needs a row: with no working day at all, one that opens long after any time stored.
    rows = rows or [{"opens": NEVER, "closes": NEVER, "open_before": 0.0}]
    table = values(*(column(name, Float) for name in names), name="open_interval")
    return table.data([tuple(row[name] for name in names) for row in rows]).cte("open_interval")


def open_intervals(clock: WorkingClock, period: Period, last: date) -> list[dict[str, float]]:
    """Each working day's opening and closing (epoch seconds) and the open time before it."""
    rows, before, day = [], 0.0, period.start
    while day <= last:
        if clock.is_working_day(day):
            opens = datetime.combine(day, clock.opens, period.tz).timestamp()
            closes = datetime.combine(day, clock.closes, period.tz).timestamp()
            rows.append({"opens": opens, "closes": closes, "open_before": before})
            before += closes - opens
        day += timedelta(days=1)
    return rows


def _working_seconds(table: CTE, at: ColumnElement[float]) -> ColumnElement[float]:
    """Open time from the period's start to `at`: the open time before the last opening, plus
    the part of that day's hours already gone."""
    latest = (
        select(
            table.c.open_before
            + case((at >= table.c.closes, table.c.closes - table.c.opens), else_=at - table.c.opens)
        )
        .where(table.c.opens <= at)
        .order_by(table.c.opens.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(latest, 0.0)


async def response_times(
    session: AsyncSession, period: Period, clock: WorkingClock
) -> ResponseTimes:
    """Median and 90th percentile working time from receipt to the first attempt."""
    where = and_(period.covers(Enquiry.received_at), Callback.first_attempt_at.is_not(None))
    joined = select(Enquiry.id).join(Callback, Callback.enquiry_id == Enquiry.id).where(where)
    count, last = (
        await session.execute(
            select(func.count(), func.max(Callback.first_attempt_at))
            .select_from(Enquiry)
            .join(Callback, Callback.enquiry_id == Enquiry.id)
            .where(where)
        )
    ).one()
    if not count:
        return ResponseTimes(0, None, None)
    assert last is not None
    name = dialect(session)
    table = _interval_table(open_intervals(clock, period, last.astimezone(period.tz).date()))
    took = _working_seconds(table, epoch(name, Callback.first_attempt_at)) - _working_seconds(
        table, epoch(name, Enquiry.received_at)
    )
    found = []
    for share in (0.5, 0.9):
        rank = max(1, math.ceil(share * count))
        seconds = await session.scalar(
            joined.with_only_columns(took).order_by(took).offset(rank - 1).limit(1)
        )
        found.append(timedelta(seconds=round(max(0.0, float(seconds or 0.0)))))
    return ResponseTimes(int(count), found[0], found[1])


async def satisfaction(session: AsyncSession, period: Period) -> Satisfaction:
    """Evaluation survey answers received in the period, and those rating 4 or 5."""
    row = (
        await session.execute(
            select(
                func.count(SurveyResponse.id),
                func.count(case((SurveyResponse.rating >= SATISFIED_FROM, 1))),
            ).where(
                SurveyResponse.received_at >= period.since,
                SurveyResponse.received_at < period.until,
                SurveyResponse.rating.is_not(None),
            )
        )
    ).one()
    return Satisfaction(int(row[0] or 0), int(row[1] or 0))


async def hour_of_week(session: AsyncSession, period: Period) -> list[list[int]]:
    """Contacts by local weekday (0 = Monday) and hour: a 7 × 24 grid.

    Grouped in the database by (UTC-offset segment, UTC weekday, UTC hour), then each group is
    moved by its segment's offset (whole hours in the UK).
    """
    name = dialect(session)
    segments = period.offset_segments()
    inner = (
        select(
            bucket(Enquiry.received_at, [at for at, _ in segments]).label("segment"),
            utc_weekday(name, Enquiry.received_at).label("dow"),
            utc_hour(name, Enquiry.received_at).label("hour"),
        )
        .where(period.covers(Enquiry.received_at))
        .subquery()
    )
    grid = [[0] * 24 for _ in range(7)]
    rows = await session.execute(
        select(inner.c.segment, inner.c.dow, inner.c.hour, func.count()).group_by(
            inner.c.segment, inner.c.dow, inner.c.hour
        )
    )
    for segment, dow, hour, count in rows:
        offset_hours = int(segments[int(segment)][1].total_seconds() // 3600)
        slot = (((int(dow) + 6) % 7) * 24 + int(hour) + offset_hours) % 168
        grid[slot // 24][slot % 24] += int(count)
    return grid
