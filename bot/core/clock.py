"""Working-day clock: when the office is open, and when a callback is due.

The service promises a response within N working days, where a working day is a fixed amount
(default 8 h) of office-open time. Everything here is a pure function of the configuration, so
the dashboard, the scheduler and the reports all compute the same ``due_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

NATIONS = frozenset({"ENG", "WLS", "SCT", "NIR"})
_MAX_GAP_DAYS = 366  # a longer run of closed days means the configuration can never open
D = TypeVar("D", bound=date)


def years_before(when: D, years: int = 1) -> D:
    """The same date (or instant) `years` years earlier; 29 February becomes 28 February."""
    try:
        return when.replace(year=when.year - years)
    except ValueError:
        return when.replace(year=when.year - years, day=28)


def _aware(at: datetime) -> datetime:
    """Return `at` in UTC; naive datetimes are refused because we store aware UTC everywhere."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} (an aware datetime is required)")
    return at.astimezone(UTC)


class WorkingClock:
    """Office-open time of the service: opening hours, UK bank holidays of one nation, closures."""

    def __init__(
        self,
        *,
        nation: str = "ENG",
        timezone: str = "Europe/London",
        opens: time = time(9, 0),
        closes: time = time(17, 0),
        weekdays: Iterable[int] = (0, 1, 2, 3, 4),
        working_day_hours: float = 8.0,
        closures: Iterable[date] = (),
    ) -> None:
        """Validate the configuration up front so that a bad setting fails at start-up."""
        if nation not in NATIONS:
            raise ValueError(f"unknown nation {nation!r}: expected one of {sorted(NATIONS)}")
        try:
            self._tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown timezone {timezone!r}") from err
        if closes <= opens:
            raise ValueError(f"closes ({closes}) must be after opens ({opens})")
        self._weekdays = frozenset(weekdays)
        if not self._weekdays:
            raise ValueError("weekdays is empty: the office would never open")
        if not self._weekdays <= set(range(7)):
            raise ValueError(f"weekdays must be 0 (Mon) to 6 (Sun), got {sorted(self._weekdays)}")
        if not working_day_hours > 0:
            raise ValueError(f"working_day_hours must be positive, got {working_day_hours}")
        self.nation = nation
        self.opens, self.closes = opens, closes
        self.working_day = timedelta(hours=working_day_hours)
        self._closures = frozenset(closures)
        self._holidays: dict[int, frozenset[date]] = {}

    @property
    def weekdays(self) -> frozenset[int]:
        """The weekdays the office opens (0 = Monday)."""
        return self._weekdays

    @property
    def zone(self) -> ZoneInfo:
        """The office's time zone, for a time of day such as the end of a call window."""
        return self._tz

    def local_date(self, at: datetime) -> date:
        """The office's calendar date at instant `at` (not the UTC date: they differ in BST)."""
        return _aware(at).astimezone(self._tz).date()

    def _bank_holidays(self, year: int) -> frozenset[date]:
        """Bank holidays (with the package's own substitute days) of one year, cached per year."""
        if year not in self._holidays:
            days = holidays.country_holidays("GB", subdiv=self.nation, years=year, expand=False)
            self._holidays[year] = frozenset(days.keys())
        return self._holidays[year]

    def is_working_day(self, day: date) -> bool:
        """True on an opening weekday that is neither a bank holiday nor a configured closure."""
        return (
            day.weekday() in self._weekdays
            and day not in self._closures
            and day not in self._bank_holidays(day.year)
        )

    def closed_reason(self, day: date) -> str | None:
        """Why `day` is not a working day (None when it is), in words for the rota."""
        if self.is_working_day(day):
            return None
        if day.weekday() not in self._weekdays:
            return "office closed that weekday"
        return "closure" if day in self._closures else "bank holiday"

    def _hours(self, day: date) -> tuple[datetime, datetime]:
        """Opening and closing instants (UTC) of a local date; DST shifts are absorbed here."""
        return (
            datetime.combine(day, self.opens, self._tz).astimezone(UTC),
            datetime.combine(day, self.closes, self._tz).astimezone(UTC),
        )

    def _working_days(self, day: date, step: int) -> Iterator[date]:
        """Working days from `day` (inclusive) in direction `step`, refusing a never-open setup."""
        gap = 0
        while True:
            if self.is_working_day(day):
                gap = 0
                yield day
            else:
                gap += 1
                if gap > _MAX_GAP_DAYS:
                    raise ValueError(f"no working day within {_MAX_GAP_DAYS} days of {day}")
            day += timedelta(days=step)

    def _intervals(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals that end after `at` (UTC), in order, starting on its local date."""
        for day in self._working_days(at.astimezone(self._tz).date(), 1):
            start, end = self._hours(day)
            if end > at:
                yield start, end

    def is_open(self, at: datetime) -> bool:
        """True when `at` falls in [opens, closes) local time on a working day."""
        at = _aware(at)
        day = at.astimezone(self._tz).date()
        start, end = self._hours(day)
        return self.is_working_day(day) and start <= at < end

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself if open, else the next opening instant: where a contact's clock starts."""
        at = _aware(at)
        start, _ = next(self._intervals(at))
        return max(at, start)

    def clock_start_day(self, at: datetime) -> date:
        """Local date on which the clock starts: the duty officer of that day takes the contact."""
        return self.next_opening(at).astimezone(self._tz).date()

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """Walk `amount` of open time forward from `start` (or from the next opening).

        Time that runs out exactly at closing gives the closing instant, not the next opening.
        """
        cursor = _aware(start)
        if amount < timedelta(0):
            raise ValueError(f"amount must not be negative, got {amount}")
        remaining = amount
        for opening, closing in self._intervals(cursor):
            cursor = max(cursor, opening)
            if remaining <= closing - cursor:
                return cursor + remaining
            remaining -= closing - cursor
        raise AssertionError("unreachable: _intervals is endless")  # pragma: no cover

    def due_at(self, received_at: datetime, working_days: int = 1) -> datetime:
        """Response deadline: `working_days` × the working-day length of open time after receipt."""
        return self.add_working_time(received_at, working_days * self.working_day)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time in [start, end), for measuring how much of a target a response used."""
        start, end = _aware(start), _aware(end)
        total = timedelta(0)
        day, last = start.astimezone(self._tz).date(), end.astimezone(self._tz).date()
        while day <= last:
            if self.is_working_day(day):
                opening, closing = self._hours(day)
                total += max(timedelta(0), min(end, closing) - max(start, opening))
            day += timedelta(days=1)
        return total

    def working_days_before(self, day: date, count: int) -> list[date]:
        """The `count` working days strictly before `day`, oldest first (rolling KPI windows)."""
        if count < 0:
            raise ValueError(f"count must not be negative, got {count}")
        found: list[date] = []
        if count:
            for found_day in self._working_days(day - timedelta(days=1), -1):
                found.append(found_day)
                if len(found) == count:
                    break
        return found[::-1]

    def next_working_day(self, day: date) -> date:
        """First working day strictly after `day`: whose rota covers what is left over today."""
        return next(self._working_days(day + timedelta(days=1), 1))


def parse_closures(values: Iterable[str]) -> list[date]:
    """Closure dates from configuration: ISO dates and inclusive ranges ``2026-12-21..2026-12-24``.

    Returned sorted and de-duplicated; a bad entry raises ValueError naming it.
    """
    days: set[date] = set()
    for value in values:
        try:
            first, sep, last = value.strip().partition("..")
            lo = date.fromisoformat(first)
            hi = date.fromisoformat(last) if sep else lo
        except ValueError as err:
            raise ValueError(f"bad closure {value!r}: expected YYYY-MM-DD or a..b range") from err
        if hi < lo:
            raise ValueError(f"bad closure {value!r}: range ends before it starts")
        days.update(lo + timedelta(days=i) for i in range((hi - lo).days + 1))
    return sorted(days)
