"""Report periods in the office's local dates, and the UTC instants the database compares with.

Grouping by local month, week or hour in SQL is done by comparing the stored UTC times with
boundaries computed here (CASE ... WHEN at < boundary), so SQLite, which knows no time zones,
and PostgreSQL give the same buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, literal
from sqlalchemy.orm import QueryableAttribute

from bot.core.clock import years_before


def parse_day(value: str, flag: str) -> date:
    """A YYYY-MM-DD date, or a readable ValueError naming the option."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{flag} {value!r} is not a date such as 2026-09-01") from None


# The service reports by academic year, 1 September to 31 July (the seed's annual report).
YEAR_STARTS = (9, 1)
YEAR_ENDS = (7, 31)


def academic_year(first: int) -> tuple[date, date]:
    """The academic year that starts in September of `first`: 2010 is 2010-11."""
    return date(first, *YEAR_STARTS), date(first + 1, *YEAR_ENDS)


def current_academic_year(today: date) -> tuple[date, date]:
    """The year under way; in August, the one that has just ended."""
    return academic_year(today.year if (today.month, today.day) >= YEAR_STARTS else today.year - 1)


@dataclass(frozen=True)
class Period:
    """Local dates `start` to `end`, both included."""

    start: date
    end: date
    timezone: str = "Europe/London"

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"the period starts ({self.start}) after it ends ({self.end})")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def midnight(self, day: date) -> datetime:
        """Local midnight starting `day`, in UTC."""
        return datetime.combine(day, time(0), self.tz).astimezone(UTC)

    @property
    def since(self) -> datetime:
        return self.midnight(self.start)

    @property
    def until(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return self.midnight(self.end + timedelta(days=1))

    def covers(self, column: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[bool]:
        """SQL: the stored UTC time `column` falls within the period."""
        return and_(column >= self.since, column < self.until)

    def a_year_earlier(self) -> Period:
        return Period(years_before(self.start), years_before(self.end), self.timezone)

    @property
    def label(self) -> str:
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"

    def months(self) -> list[tuple[str, date]]:
        """(label "2026-11", first local day in the period) for each month touched."""
        found: list[tuple[str, date]] = []
        day = self.start
        while day <= self.end:
            found.append((f"{day:%Y-%m}", day))
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        return found

    def weeks(self) -> list[tuple[str, date]]:
        """(label "w/c 2026-11-23", first local day in the period) for each Monday-Sunday week."""
        found: list[tuple[str, date]] = []
        day = self.start
        while day <= self.end:
            monday = day - timedelta(days=day.weekday())
            found.append((f"w/c {monday.isoformat()}", day))
            day = monday + timedelta(days=7)
        return found

    def offset_segments(self) -> list[tuple[datetime, timedelta]]:
        """(UTC instant from which it applies, local UTC offset), covering the whole period."""
        segments: list[tuple[datetime, timedelta]] = []
        at = self.since
        while at < self.until:
            offset = at.astimezone(self.tz).utcoffset() or timedelta(0)
            if not segments or segments[-1][1] != offset:
                segments.append((at, offset))
            at += timedelta(hours=1)
        return segments


def bucket(
    column: ColumnElement[Any] | QueryableAttribute[Any], starts: list[datetime]
) -> ColumnElement[int]:
    """The index i of the bucket [starts[i], starts[i+1]) that `column` falls in (SQL CASE)."""
    if len(starts) == 1:
        return literal(0)
    whens = [(column < starts[i + 1], literal(i)) for i in range(len(starts) - 1)]
    return case(*whens, else_=literal(len(starts) - 1))
