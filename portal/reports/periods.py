"""Report periods: a quarter ("2026-Q3"), a year ("2026") or custom dates, as half-open UTC ranges.

A period is [start, end): it includes its first instant and excludes its end. Custom periods are
given as inclusive dates (the last day counts), so "2026-01-01 to 2026-01-31" is January. Each
period knows the previous one it is compared with: the previous quarter, the previous year, or
for custom dates the same number of days just before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from portal.services import ServiceError

MAX_PERIOD = timedelta(days=5 * 366)  # "at most 5 years", leap days included
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    label: str
    kind: str = "custom"  # "quarter", "year" or "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def previous(self) -> Period:
        if self.kind == "quarter":
            return quarter_of(self.start - timedelta(days=1))
        if self.kind == "year":
            return year_period(self.start.year - 1)
        length = self.end - self.start
        start = self.start - length
        return Period(start, self.start, f"{start.date()} to {(self.start - timedelta(days=1)).date()}")


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def quarter_period(year: int, quarter: int) -> Period:
    first_month = 3 * (quarter - 1) + 1
    start = _at(date(year, first_month, 1))
    end = _at(date(year + 1, 1, 1)) if quarter == 4 else _at(date(year, first_month + 3, 1))
    return Period(start, end, f"{year}-Q{quarter}", "quarter")


def quarter_of(moment: datetime) -> Period:
    return quarter_period(moment.year, (moment.month - 1) // 3 + 1)


def year_period(year: int) -> Period:
    return Period(_at(date(year, 1, 1)), _at(date(year + 1, 1, 1)), str(year), "year")


def last_quarters(moment: datetime, count: int) -> list[Period]:
    """The `count` quarters ending with the one `moment` is in, oldest first."""
    quarters = [quarter_of(moment)]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous())
    return quarters[::-1]


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ServiceError(f"Choose a year between {MIN_YEAR} and {MAX_YEAR}.", field="period")


def parse_period(text: str | None, start: date | None = None, end: date | None = None) -> Period:
    """The period named by `text` ("2026-Q3", "2026"), or by `start`/`end` when `text` is "custom".

    Raises ServiceError with a message for the person: an unknown period, a custom period with a
    missing date, an end before the start, or a period longer than 5 years.
    """
    text = (text or "").strip()
    if text.lower() == "custom":
        if start is None or end is None:
            raise ServiceError("Give both a start and an end date for a custom period.", field="start")
        if end < start:
            raise ServiceError("The end date is before the start date.", field="end")
        _check_year(start.year)
        _check_year(end.year)
        period = Period(_at(start), _at(end) + timedelta(days=1), f"{start} to {end}")
        if period.end - period.start > MAX_PERIOD:
            raise ServiceError("A report covers at most 5 years.", field="end")
        return period
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        _check_year(year)
        return quarter_period(year, quarter)
    if match := _YEAR.match(text):
        _check_year(int(match[1]))
        return year_period(int(match[1]))
    raise ServiceError("Unknown period: use a quarter such as 2026-Q3, a year such as 2026, or custom dates.", "period")
