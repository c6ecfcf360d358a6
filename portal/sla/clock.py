"""Business-time arithmetic for SLA clocks: working hours, holidays, weekends, DST."""

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ZERO = timedelta(0)
_ONE_MINUTE = timedelta(minutes=1)
_ONE_DAY = timedelta(days=1)
_ONE_WEEK = timedelta(weeks=1)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class BusinessCalendar:
    """When the SLA clock runs: working hours on workdays, in one local time zone.

    Each workday (``workdays`` uses Monday=0 … Sunday=6) that is not in ``holidays``
    (local dates) has one working interval from ``start`` to ``end`` local wall-clock
    time. Working time is the real time elapsed between the instants those wall-clock
    times denote, so a 09:00-17:00 day is 480 minutes even on a DST change day, while
    a local hour that is skipped at spring-forward does not count and an hour that is
    repeated at fall-back counts twice.

    Wall-clock times resolve to the earliest instant at which local clocks read that
    time or later: an ambiguous time (fall-back) is its first occurrence, a time that
    does not exist (spring-forward gap) is the instant the gap ends.
    """

    timezone: str
    workdays: frozenset[int]
    start: time
    end: time
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown IANA time zone {self.timezone!r}") from exc
        # Accept any iterable (a list from config or a database row) but store
        # frozensets so the calendar stays hashable and immutable.
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not self.workdays:
            raise ValueError("a business calendar needs at least one workday")
        for day in self.workdays:
            if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
                raise ValueError(f"workdays must be 0 (Monday) to 6, got {day!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise TypeError(f"{name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive local time, got {value!r}")
        if not self.start < self.end:
            raise ValueError(
                f"working hours must start before they end on the same day, "
                f"got {self.start.isoformat()}-{self.end.isoformat()}"
            )
        for holiday in self.holidays:
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise TypeError(f"holidays must be datetime.date, got {holiday!r}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


DEFAULT_CALENDAR = BusinessCalendar(
    timezone="Europe/London",
    workdays=frozenset({0, 1, 2, 3, 4}),
    start=time(9, 0),
    end=time(17, 0),
)


def add_business_minutes(start: datetime, minutes: float, calendar: BusinessCalendar) -> datetime:
    """Return the instant when ``minutes`` business minutes have run after ``start``.

    The clock only runs inside the calendar's working intervals: a start outside
    working hours (overnight, before opening, on a weekend or holiday) rolls to the
    next opening; weekends and holidays are skipped; DST changes are handled as
    described on :class:`BusinessCalendar`. When the minutes run out exactly at a
    closing time the result is that closing time, not the next opening.
    ``minutes == 0`` returns ``start`` itself (as UTC), wherever it falls.
    Fractional minutes are allowed (microsecond precision); negative ones raise
    ValueError. Whole non-working days are skipped in one step each, so large
    values (10 business days, 100,000 minutes) are cheap. Result is UTC-aware.
    """
    if not minutes >= 0:  # also rejects NaN
        raise ValueError(f"minutes must be zero or positive, got {minutes!r}")
    try:
        amount = timedelta(minutes=minutes)
    except OverflowError as exc:
        raise ValueError(f"minutes is too large: {minutes!r}") from exc
    return _add_business_time(_to_utc(start, "start"), amount, calendar)


def business_time_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> timedelta:
    """Return the exact business time inside ``[start, end)``; zero if ``end <= start``.

    Only time inside working intervals counts (weekends, holidays, nights and a
    skipped DST hour do not). The result is additive: for ``a <= b <= c``,
    ``between(a, b) + between(b, c) == between(a, c)`` exactly.
    """
    return _between(_to_utc(start, "start"), _to_utc(end, "end"), calendar)


def business_minutes_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> float:
    """Return :func:`business_time_between` as (possibly fractional) minutes."""
    return business_time_between(start, end, calendar) / _ONE_MINUTE


def due_at(
    start: datetime,
    target_minutes: float,
    calendar: BusinessCalendar,
    *,
    paused: timedelta = _ZERO,
) -> datetime:
    """Return when an SLA target of ``target_minutes`` business minutes falls due.

    ``paused`` is the total business time the clock was paused (waiting on the
    customer, see :func:`paused_business_time`); it pushes the due time back by that
    much business time: ``add_business_minutes(start, target_minutes + paused)``.
    A longer pause never makes the due time earlier. Negative targets or pauses
    raise ValueError. Result is UTC-aware.
    """
    if not target_minutes >= 0:
        raise ValueError(f"target_minutes must be >= 0, got {target_minutes!r}")
    if paused < _ZERO:
        raise ValueError(f"paused must not be negative, got {paused!r}")
    try:
        amount = timedelta(minutes=target_minutes) + paused
    except OverflowError as exc:
        raise ValueError(f"target_minutes is too large: {target_minutes!r}") from exc
    return _add_business_time(_to_utc(start, "start"), amount, calendar)


def paused_business_time(
    pauses: Iterable[tuple[datetime, datetime | None]],
    calendar: BusinessCalendar,
    now: datetime,
) -> timedelta:
    """Return the business time spent inside pause intervals, as of ``now``.

    Each pause is ``(paused_at, resumed_at)``; an open pause (``resumed_at is None``)
    runs until ``now``, and every pause is cut off at ``now``, so the result is the
    paused time so far. Overlapping pauses count once. A pause that resumes before
    it starts raises ValueError.
    """
    now_utc = _to_utc(now, "now")
    spans: list[tuple[datetime, datetime]] = []
    for paused_at, resumed_at in pauses:
        begin = _to_utc(paused_at, "pause start")
        finish = now_utc if resumed_at is None else _to_utc(resumed_at, "pause end")
        if finish < begin:
            raise ValueError(f"pause ends before it starts: {paused_at!r}")
        finish = min(finish, now_utc)
        if begin < finish:
            spans.append((begin, finish))

    # Merge overlaps first so a duplicated or overlapping pause is not counted twice.
    total = _ZERO
    merged_start: datetime | None = None
    merged_end: datetime | None = None
    for begin, finish in sorted(spans):
        if merged_end is not None and begin <= merged_end:
            merged_end = max(merged_end, finish)
            continue
        if merged_start is not None and merged_end is not None:
            total += _between(merged_start, merged_end, calendar)
        merged_start, merged_end = begin, finish
    if merged_start is not None and merged_end is not None:
        total += _between(merged_start, merged_end, calendar)
    return total


def remaining(due: datetime, now: datetime, calendar: BusinessCalendar) -> timedelta:
    """Return the business time left from ``now`` until ``due``.

    Negative when breached: minus the business time between ``due`` and ``now``.
    Zero exactly at ``due``, and also when ``now`` is past ``due`` but no working
    time has elapsed since (due 17:00, seen at 18:00 the same day), so decide
    *whether* a case is breached with ``now > due`` and use this for *how much*.
    """
    due_utc = _to_utc(due, "due")
    now_utc = _to_utc(now, "now")
    if now_utc <= due_utc:
        return _between(now_utc, due_utc, calendar)
    return -_between(due_utc, now_utc, calendar)


def _to_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    # Convert before any arithmetic: adding a timedelta to a ZoneInfo datetime is
    # wall-clock arithmetic and would be wrong across DST changes.
    return value.astimezone(UTC)


def _add_business_time(start: datetime, amount: timedelta, calendar: BusinessCalendar) -> datetime:
    if amount == _ZERO:
        return start
    for opening, closing in _working_intervals(start, calendar):
        if closing <= start:
            continue
        begin = max(opening, start)
        available = closing - begin
        if amount <= available:
            return begin + amount
        amount -= available
    raise AssertionError("unreachable: working intervals never run out")


def _between(start: datetime, end: datetime, calendar: BusinessCalendar) -> timedelta:
    """Return the business time inside ``[start, end)`` (UTC instants); zero if ``end <= start``.

    The plain way is the day walk (:func:`_walk_between`): from ``start``'s local day on, add
    each day's working-interval overlap with ``[start, end)`` until a day opens at or after
    ``end``. That is one step per calendar day, and queue pages show how late every listed case
    is, longest-breached first, so a span of two weeks or more is counted in three parts instead:

    1. the head, the few days before the first whole week: walked;
    2. whole weeks, in which every day lies wholly inside ``[start, end)`` and so adds its full
       working time. Any seven consecutive days hold each weekday once, so ``n`` whole weeks hold
       ``n`` × (workdays per week) regular working days, each as long as the working hours on
       the wall clock. Only *irregular* days differ: holidays (no working time) and days when a
       DST change makes the working hours last longer or shorter in real time
       (:func:`_dst_change_days`). Each one in the weeks, found by bisecting sorted lists,
       corrects the total by its real working time minus the regular one;
    3. the tail, the days after the whole weeks: walked until a day opens at or after ``end``.

    Why the whole weeks' days lie inside the span: a UTC offset is under 24 hours, so a local
    wall-clock time resolves to an instant less than 24 hours away from the same wall time read
    as UTC. A day two or more days after ``start``'s UTC date therefore opens after ``start``,
    and a day two or more days before ``end``'s UTC date closes before ``end``; the whole weeks
    are taken between those bounds. The result equals the day walk's to the microsecond (the
    tests keep the walk as a reference and compare the two).
    """
    if end <= start:
        return _ZERO
    first_day = start.astimezone(calendar.zone).date()
    if (end.date() - start.date()).days < 14 or start.year <= 1 or end.year >= 9999:
        # Short spans are simply walked; so are spans at the very ends of the datetime range,
        # where the year-long scans behind the week arithmetic could overflow and the walk not.
        return _walk_between(start, end, first_day, None, calendar)
    weeks_start = start.date() + 2 * _ONE_DAY
    last_day_inside = end.date() - 2 * _ONE_DAY
    weeks = ((last_day_inside - weeks_start).days + 1) // 7
    weeks_stop = weeks_start + weeks * _ONE_WEEK
    head = _walk_between(start, end, first_day, weeks_start, calendar)
    middle = _whole_weeks_time(weeks_start, weeks, calendar)
    tail = _walk_between(start, end, weeks_stop, None, calendar)
    return head + middle + tail


def _walk_between(
    start: datetime, end: datetime, first_day: date, stop_day: date | None, calendar: BusinessCalendar
) -> timedelta:
    """Add up each local day's working-interval overlap with ``[start, end)``, one day at a time.

    Walks from ``first_day`` up to (not including) ``stop_day``, or with no ``stop_day`` until
    the first working day that opens at or after ``end``.
    """
    total = _ZERO
    day = first_day
    while stop_day is None or day < stop_day:
        interval = _day_interval(day, calendar)
        if interval is not None:
            opening, closing = interval
            if opening >= end:
                break
            overlap = min(closing, end) - max(opening, start)
            if overlap > _ZERO:
                total += overlap
        day += _ONE_DAY
    return total


def _whole_weeks_time(first_day: date, weeks: int, calendar: BusinessCalendar) -> timedelta:
    """Return the full working time of the ``weeks`` whole weeks of local days from ``first_day``.

    Regular working days times their wall-clock length, corrected day by day for the irregular
    days among them (see :func:`_between`). A day on neither list lasts exactly the regular
    time (see :func:`_dst_change_days`); a day on a list that turns out regular after all
    corrects the total by zero.
    """
    stop_day = first_day + weeks * _ONE_WEEK
    regular = _wall_length(calendar.start, calendar.end)
    total = weeks * len(calendar.workdays) * regular

    holidays = _sorted_holidays(calendar)
    irregular = set(holidays[bisect_left(holidays, first_day) : bisect_left(holidays, stop_day)])
    for year in range(first_day.year, (stop_day - _ONE_DAY).year + 1):
        changes = _dst_change_days(calendar.timezone, calendar.start, calendar.end, year)
        irregular.update(changes[bisect_left(changes, first_day) : bisect_left(changes, stop_day)])

    for day in irregular:
        interval = _day_interval(day, calendar)
        worked = _ZERO if interval is None else interval[1] - interval[0]
        expected = regular if day.weekday() in calendar.workdays else _ZERO
        total += worked - expected
    return total


@lru_cache(maxsize=1024)
def _sorted_holidays(calendar: BusinessCalendar) -> tuple[date, ...]:
    """The calendar's holidays in date order, for bisecting."""
    return tuple(sorted(calendar.holidays))


@lru_cache(maxsize=1024)
def _dst_change_days(timezone: str, start: time, end: time, year: int) -> tuple[date, ...]:
    """Return the days of ``year``, in order, on which a DST change may make the ``start``-``end``
    local working hours last longer or shorter in real time than on the wall clock.

    Those are the days on which the UTC offset at the opening differs from the one at the
    closing, or the opening or closing time is skipped or repeated (there ``fold=0`` and
    ``fold=1`` give different offsets, PEP 495). On every other day both times exist once and
    resolve to the wall time minus the same offset, so the day lasts exactly its wall-clock
    length. DST changes happen at night, so for daytime hours the list is usually empty.
    ``ZoneInfo`` does not list its transitions, so each day of the year is checked once, and
    the result is cached per zone, hours and year (calendars that differ only in their
    holidays or workdays share it).
    """
    zone = ZoneInfo(timezone)
    days = []
    for ordinal in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1):
        day = date.fromordinal(ordinal)
        opening = datetime.combine(day, start)
        closing = datetime.combine(day, end)
        offsets = {
            zone.utcoffset(opening),
            zone.utcoffset(opening.replace(fold=1)),
            zone.utcoffset(closing),
            zone.utcoffset(closing.replace(fold=1)),
        }
        if len(offsets) > 1:
            days.append(day)
    return tuple(days)


def _wall_length(start: time, end: time) -> timedelta:
    """How long the working hours last on the wall clock (their real length on a regular day)."""
    return datetime.combine(date.min, end) - datetime.combine(date.min, start)


def _working_intervals(after: datetime, calendar: BusinessCalendar) -> Iterator[tuple[datetime, datetime]]:
    """Yield the non-empty UTC working intervals, in order, from ``after``'s local day.

    Earlier days cannot matter: an earlier day's closing time resolves to the
    earliest instant whose local clock reads it or later, and ``after`` is such an
    instant (its clock reads a later day). The first interval may still end before
    ``after``; callers clip it.
    """
    day = after.astimezone(calendar.zone).date()
    while True:
        interval = _day_interval(day, calendar)
        if interval is not None:
            yield interval
        day += _ONE_DAY


@lru_cache(maxsize=65_536)
def _day_interval(day: date, calendar: BusinessCalendar) -> tuple[datetime, datetime] | None:
    """The UTC working interval of one local day, or None for a day off.

    Cached: lists ask for the time left on many clocks at once, and their walks (and the irregular
    days of their whole weeks) ask for the same days again; the zone conversions are the expensive
    part and a day's interval never changes for a given (frozen, hashable) calendar.
    """
    if day.weekday() not in calendar.workdays or day in calendar.holidays:
        return None
    zone = calendar.zone
    opening = _resolve_wall_time(datetime.combine(day, calendar.start), zone)
    closing = _resolve_wall_time(datetime.combine(day, calendar.end), zone)
    return (opening, closing) if opening < closing else None  # empty only inside a DST gap


def _resolve_wall_time(wall: datetime, zone: ZoneInfo) -> datetime:
    """Return the earliest UTC instant at which local clocks read ``wall`` or later."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _local(first, zone) == wall:
        return first  # exists; fold=0 is the first occurrence of an ambiguous time
    # ``wall`` is in a spring-forward gap. PEP 495: fold=1 applies the offset after
    # the transition, giving an instant before it (local time < wall); fold=0 applies
    # the offset before, giving one after it (local time >= wall). Bisect for the
    # transition instant, where local time jumps past ``wall``.
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(first, other), max(first, other)
    if _local(low, zone) >= wall:
        return low
    steps = (high - low) // _MICROSECOND
    lo_step, hi_step = 0, steps  # invariant: local(low+lo) < wall <= local(low+hi)
    while hi_step - lo_step > 1:
        mid = (lo_step + hi_step) // 2
        if _local(low + mid * _MICROSECOND, zone) >= wall:
            hi_step = mid
        else:
            lo_step = mid
    return low + hi_step * _MICROSECOND


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)
