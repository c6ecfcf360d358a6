"""Business-time arithmetic of the SLA clock: named cases and properties."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.sla.clock import (
    DEFAULT_CALENDAR,
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    business_time_between,
    due_at,
    paused_business_time,
    remaining,
)
from portal.sla.clock import _day_interval as day_interval

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
ALL_WEEK = frozenset(range(7))
MONDAY = date(2026, 6, 1)  # a plain BST week: London is UTC+1


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def london_calendar(start: time, end: time, **kwargs) -> BusinessCalendar:
    return BusinessCalendar("Europe/London", ALL_WEEK, start, end, **kwargs)


# --- the calendar ---------------------------------------------------------------


def test_default_calendar_is_weekdays_nine_to_five_in_london():
    assert DEFAULT_CALENDAR.timezone == "Europe/London"
    assert DEFAULT_CALENDAR.workdays == frozenset({0, 1, 2, 3, 4})
    assert (DEFAULT_CALENDAR.start, DEFAULT_CALENDAR.end) == (time(9), time(17))
    assert DEFAULT_CALENDAR.holidays == frozenset()


def test_calendar_stores_iterables_as_frozensets():
    calendar = BusinessCalendar("UTC", [0, 1], time(9), time(17), [date(2026, 1, 1)])
    assert calendar.workdays == frozenset({0, 1})
    assert calendar.holidays == frozenset({date(2026, 1, 1)})
    hash(calendar)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "time zone"),
        ({"workdays": frozenset()}, "at least one workday"),
        ({"workdays": frozenset({7})}, "workdays"),
        ({"start": time(17), "end": time(9)}, "start before"),
        ({"start": time(9), "end": time(9)}, "start before"),
        ({"start": time(9, tzinfo=UTC)}, "naive"),
    ],
)
def test_calendar_rejects_invalid_settings(changes, message):
    settings_ = {
        "timezone": "Europe/London",
        "workdays": frozenset({0}),
        "start": time(9),
        "end": time(17),
    } | changes
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**settings_)


def test_calendar_rejects_datetimes_as_holidays():
    with pytest.raises(TypeError, match="holidays"):
        BusinessCalendar("UTC", {0}, time(9), time(17), {datetime(2026, 1, 1)})


# --- add_business_minutes: named cases ------------------------------------------


def test_overnight_start_rolls_to_next_opening():
    due = add_business_minutes(london(2026, 6, 1, 20, 0), 30, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 2, 9, 30)
    assert due == datetime(2026, 6, 2, 8, 30, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_start_before_opening_counts_from_opening():
    due = add_business_minutes(london(2026, 6, 2, 7, 15), 30, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 2, 9, 30)


def test_start_inside_hours_counts_from_start():
    due = add_business_minutes(london(2026, 6, 2, 11, 10), 45, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 2, 11, 55)


def test_friday_afternoon_rolls_over_the_weekend():
    due = add_business_minutes(london(2026, 6, 5, 16, 0), 120, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 8, 10, 0)


def test_saturday_start_rolls_to_monday_opening():
    due = add_business_minutes(london(2026, 6, 6, 12, 0), 15, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 8, 9, 15)


def test_minutes_running_out_at_closing_are_due_at_closing():
    due = add_business_minutes(london(2026, 6, 1, 16, 0), 60, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 1, 17, 0)


@pytest.mark.parametrize(
    "start",
    [london(2026, 6, 1, 11, 0), london(2026, 6, 1, 17, 0), london(2026, 6, 6, 3, 0)],
    ids=["inside-hours", "at-closing", "saturday-night"],
)
def test_zero_minutes_are_due_at_start_itself(start):
    due = add_business_minutes(start, 0, DEFAULT_CALENDAR)
    assert due == start
    assert due.tzinfo is UTC


def test_holiday_is_skipped():
    calendar = BusinessCalendar(
        "Europe/London",
        frozenset({0, 1, 2, 3, 4}),
        time(9),
        time(17),
        frozenset({date(2026, 5, 25)}),  # spring bank holiday, a Monday
    )
    due = add_business_minutes(london(2026, 5, 22, 16, 0), 120, calendar)
    assert due == london(2026, 5, 26, 10, 0)


def test_two_business_days_from_opening_end_at_second_closing():
    due = add_business_minutes(london(2026, 6, 1, 9, 0), 960, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 2, 17, 0)


def test_two_business_days_from_mid_morning_end_mid_morning():
    due = add_business_minutes(london(2026, 6, 1, 10, 0), 960, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 3, 10, 0)


def test_ten_business_days_span_two_weekends():
    due = add_business_minutes(london(2026, 6, 1, 10, 0), 10 * 480, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 15, 10, 0)


def test_large_targets_round_trip():
    start = london(2026, 6, 1, 10, 0)
    due = add_business_minutes(start, 100_000, DEFAULT_CALENDAR)
    # 208 full days (99,840 minutes) plus 160 minutes, across two DST changes.
    assert due == london(2027, 3, 18, 12, 40)
    assert business_minutes_between(start, due, DEFAULT_CALENDAR) == 100_000


def test_fractional_minutes_are_exact_to_the_second():
    due = add_business_minutes(london(2026, 6, 1, 16, 59), 1.5, DEFAULT_CALENDAR)
    assert due == london(2026, 6, 2, 9, 0, 30)


def test_input_timezone_does_not_change_the_result():
    in_london = london(2026, 6, 1, 16, 0)
    in_tokyo = in_london.astimezone(ZoneInfo("Asia/Tokyo"))
    in_utc = in_london.astimezone(UTC)
    starts = (in_london, in_tokyo, in_utc)
    results = {add_business_minutes(start, 90, DEFAULT_CALENDAR) for start in starts}
    assert results == {london(2026, 6, 2, 9, 30)}


# --- DST ------------------------------------------------------------------------


def test_office_hours_on_dst_change_days_are_eight_hours():
    calendar = london_calendar(time(9), time(17))
    for day in (date(2026, 3, 29), date(2026, 10, 25)):  # spring forward, fall back
        midnight = datetime.combine(day, time(0), tzinfo=LONDON)
        next_day = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
        assert business_time_between(midnight, next_day, calendar) == minutes(480)


def test_weekend_dst_change_keeps_local_opening_hours():
    # GMT on Friday, BST on Monday: Monday 10:00 local is 09:00 UTC.
    spring = add_business_minutes(london(2026, 3, 27, 16, 0), 120, DEFAULT_CALENDAR)
    assert spring == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    # BST on Friday, GMT on Monday: Monday 10:00 local is 10:00 UTC.
    autumn = add_business_minutes(london(2026, 10, 23, 16, 0), 120, DEFAULT_CALENDAR)
    assert autumn == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)


def test_skipped_spring_forward_hour_does_not_count():
    calendar = london_calendar(time(0), time(4))  # 01:00-02:00 is skipped on 29 March
    saturday = business_time_between(london(2026, 3, 28), london(2026, 3, 29), calendar)
    sunday = business_time_between(london(2026, 3, 29), london(2026, 3, 30), calendar)
    assert (saturday, sunday) == (minutes(240), minutes(180))
    # 30 minutes before the jump and 30 after it: 00:30 GMT + 1h is 02:30 BST.
    due = add_business_minutes(london(2026, 3, 29, 0, 30), 60, calendar)
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert due == london(2026, 3, 29, 2, 30)


def test_repeated_fall_back_hour_counts_twice():
    calendar = london_calendar(time(0), time(4))  # 01:00-02:00 happens twice on 25 Oct
    sunday = business_time_between(london(2026, 10, 25), london(2026, 10, 26), calendar)
    assert sunday == minutes(300)
    # 00:30 BST (23:30 UTC) + 2h lands in the second 01:30, which is GMT.
    due = add_business_minutes(london(2026, 10, 25, 0, 30), 120, calendar)
    assert due == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_working_hours_inside_the_skipped_hour_count_nothing_that_day():
    calendar = london_calendar(time(1, 15), time(1, 45))
    start, end = london(2026, 3, 28, 12, 0), london(2026, 3, 30, 12, 0)
    assert business_time_between(start, end, calendar) == minutes(30)  # Monday only
    due = add_business_minutes(start, 10, calendar)
    assert due == london(2026, 3, 30, 1, 25)


def test_opening_time_that_does_not_exist_opens_when_the_clock_jumps():
    calendar = london_calendar(time(1, 30), time(3, 0))
    sunday = business_time_between(london(2026, 3, 29), london(2026, 3, 30), calendar)
    assert sunday == minutes(60)  # 02:00 BST (the jump) to 03:00 BST
    due = add_business_minutes(london(2026, 3, 28, 12, 0), 1, calendar)
    assert due == datetime(2026, 3, 29, 1, 1, tzinfo=UTC)


def test_new_york_calendar_uses_new_york_hours_and_dst():
    calendar = BusinessCalendar("America/New_York", range(5), time(9), time(17))
    monday = datetime(2026, 6, 1, 16, 30, tzinfo=NEW_YORK)
    due = add_business_minutes(monday, 60, calendar)
    assert due == datetime(2026, 6, 2, 13, 30, tzinfo=UTC)  # 09:30 EDT
    # US clocks spring forward on Sunday 8 March 2026: Friday is EST, Monday EDT.
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK)
    due = add_business_minutes(friday, 120, calendar)
    assert due == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # 10:00 EDT


# --- business time between ------------------------------------------------------


def test_business_time_between_skips_nights_and_weekends():
    start, end = london(2026, 6, 5, 16, 0), london(2026, 6, 8, 10, 30)
    assert business_time_between(start, end, DEFAULT_CALENDAR) == minutes(150)
    assert business_minutes_between(start, end, DEFAULT_CALENDAR) == 150.0


def test_business_time_between_is_zero_when_end_is_not_after_start():
    start = london(2026, 6, 1, 12, 0)
    assert business_time_between(start, start, DEFAULT_CALENDAR) == timedelta(0)
    earlier = london(2026, 6, 1, 10, 0)
    assert business_time_between(start, earlier, DEFAULT_CALENDAR) == timedelta(0)


def test_business_minutes_between_keeps_seconds():
    start, end = london(2026, 6, 1, 9, 0), london(2026, 6, 1, 9, 1, 30)
    assert business_minutes_between(start, end, DEFAULT_CALENDAR) == 1.5


# --- pauses and due times -------------------------------------------------------


def test_pause_across_a_weekend_counts_only_business_time():
    pauses = [(london(2026, 6, 5, 16, 0), london(2026, 6, 8, 10, 0))]
    paused = paused_business_time(pauses, DEFAULT_CALENDAR, london(2026, 6, 9, 12, 0))
    assert paused == minutes(120)
    # Friday 15:00 with a 4h target: 2h on Friday, then 2h + the 2h pause on Monday.
    due = due_at(london(2026, 6, 5, 15, 0), 240, DEFAULT_CALENDAR, paused=paused)
    assert due == london(2026, 6, 8, 13, 0)


def test_open_pause_runs_until_now():
    pauses = [(london(2026, 6, 5, 16, 0), None)]
    now = london(2026, 6, 8, 10, 0)
    assert paused_business_time(pauses, DEFAULT_CALENDAR, now) == minutes(120)


def test_pauses_are_cut_off_at_now():
    pauses = [(london(2026, 6, 1, 10, 0), london(2026, 6, 1, 15, 0))]
    now = london(2026, 6, 1, 12, 0)
    assert paused_business_time(pauses, DEFAULT_CALENDAR, now) == minutes(120)


def test_overlapping_pauses_count_once():
    pauses = [
        (london(2026, 6, 1, 10, 0), london(2026, 6, 1, 12, 0)),
        (london(2026, 6, 1, 11, 0), london(2026, 6, 1, 13, 0)),
        (london(2026, 6, 1, 11, 0), london(2026, 6, 1, 13, 0)),
        (london(2026, 6, 1, 15, 0), london(2026, 6, 1, 16, 0)),
    ]
    now = london(2026, 6, 2, 9, 0)
    assert paused_business_time(pauses, DEFAULT_CALENDAR, now) == minutes(240)


def test_no_pauses_means_no_paused_time():
    now = london(2026, 6, 2, 9, 0)
    assert paused_business_time([], DEFAULT_CALENDAR, now) == timedelta(0)


def test_pause_that_ends_before_it_starts_is_rejected():
    pauses = [(london(2026, 6, 1, 12, 0), london(2026, 6, 1, 11, 0))]
    with pytest.raises(ValueError, match="pause ends before it starts"):
        paused_business_time(pauses, DEFAULT_CALENDAR, london(2026, 6, 2, 9, 0))


def test_due_at_without_pause_matches_add_business_minutes():
    start = london(2026, 6, 1, 20, 0)
    assert due_at(start, 30, DEFAULT_CALENDAR) == london(2026, 6, 2, 9, 30)


# --- remaining ------------------------------------------------------------------


def test_remaining_counts_business_time_until_due():
    due, now = london(2026, 6, 2, 10, 0), london(2026, 6, 1, 16, 0)
    assert remaining(due, now, DEFAULT_CALENDAR) == minutes(120)


def test_remaining_is_negative_once_breached():
    due, now = london(2026, 6, 1, 16, 0), london(2026, 6, 2, 10, 0)
    assert remaining(due, now, DEFAULT_CALENDAR) == -minutes(120)


def test_remaining_is_zero_after_closing_on_the_due_day():
    due, now = london(2026, 6, 1, 17, 0), london(2026, 6, 1, 18, 0)
    assert remaining(due, now, DEFAULT_CALENDAR) == timedelta(0)


# --- input validation -----------------------------------------------------------

NAIVE = datetime(2026, 6, 1, 12, 0)
AWARE = london(2026, 6, 1, 12, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_business_minutes(NAIVE, 10, DEFAULT_CALENDAR),
        lambda: business_time_between(NAIVE, AWARE, DEFAULT_CALENDAR),
        lambda: business_minutes_between(AWARE, NAIVE, DEFAULT_CALENDAR),
        lambda: due_at(NAIVE, 10, DEFAULT_CALENDAR),
        lambda: paused_business_time([(NAIVE, None)], DEFAULT_CALENDAR, AWARE),
        lambda: paused_business_time([(AWARE, None)], DEFAULT_CALENDAR, NAIVE),
        lambda: remaining(AWARE, NAIVE, DEFAULT_CALENDAR),
    ],
    ids=[
        "add",
        "time-between",
        "minutes-between",
        "due-at",
        "pause",
        "pause-now",
        "remaining",
    ],
)
def test_naive_datetimes_are_rejected(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_business_minutes(AWARE, -1, DEFAULT_CALENDAR),
        lambda: add_business_minutes(AWARE, float("nan"), DEFAULT_CALENDAR),
        lambda: due_at(AWARE, -5, DEFAULT_CALENDAR),
        lambda: due_at(AWARE, 5, DEFAULT_CALENDAR, paused=-minutes(1)),
    ],
    ids=["negative", "nan", "negative-target", "negative-pause"],
)
def test_negative_durations_are_rejected(call):
    with pytest.raises(ValueError):
        call()


# --- properties -----------------------------------------------------------------

TIMEZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # DST shift of 30 minutes
    "Asia/Kolkata",
    "UTC",
]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@st.composite
def calendars(draw) -> BusinessCalendar:
    opening = draw(st.integers(0, 23 * 60 - 60))
    closing = opening + draw(st.integers(60, 24 * 60 - 1 - opening))
    return BusinessCalendar(
        timezone=draw(st.sampled_from(TIMEZONES)),
        workdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        start=time(*divmod(opening, 60)),
        end=time(*divmod(closing, 60)),
        holidays=draw(st.frozensets(st.dates(date(2026, 1, 1), date(2027, 12, 31)), max_size=8)),
    )


instants = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2026, 12, 31),
    timezones=st.sampled_from([UTC, *(ZoneInfo(name) for name in TIMEZONES)]),
)
business_minutes = st.integers(0, 5_000)
pause_lengths = st.integers(0, 3_000).map(minutes)


@PROPERTY_SETTINGS
@given(calendars(), instants, business_minutes)
def test_due_is_never_before_start_and_is_utc(calendar, start, target):
    due = add_business_minutes(start, target, calendar)
    assert due >= start
    assert due.tzinfo is UTC


@PROPERTY_SETTINGS
@given(calendars(), instants, business_minutes, business_minutes)
def test_more_minutes_are_never_due_earlier(calendar, start, fewer, more):
    fewer, more = sorted((fewer, more))
    assert add_business_minutes(start, fewer, calendar) <= add_business_minutes(start, more, calendar)


@PROPERTY_SETTINGS
@given(calendars(), instants, business_minutes, pause_lengths, pause_lengths)
def test_longer_pause_never_makes_due_earlier(calendar, start, target, short, long):
    short, long = sorted((short, long))
    without = due_at(start, target, calendar)
    shorter = due_at(start, target, calendar, paused=short)
    longer = due_at(start, target, calendar, paused=long)
    assert without <= shorter <= longer
    assert longer.tzinfo is UTC


@PROPERTY_SETTINGS
@given(calendars(), instants, instants, instants)
def test_business_time_is_additive(calendar, first, second, third):
    a, b, c = sorted((first, second, third))
    whole = business_time_between(a, c, calendar)
    assert business_time_between(a, b, calendar) + business_time_between(b, c, calendar) == whole
    assert business_minutes_between(a, b, calendar) + business_minutes_between(b, c, calendar) == pytest.approx(
        business_minutes_between(a, c, calendar)
    )


@PROPERTY_SETTINGS
@given(calendars(), instants, business_minutes)
def test_adding_then_measuring_round_trips(calendar, start, target):
    due = add_business_minutes(start, target, calendar)
    assert business_minutes_between(start, due, calendar) == target
    assert remaining(due, start, calendar) == minutes(target)


@PROPERTY_SETTINGS
@given(calendars(), instants, instants)
def test_remaining_is_antisymmetric(calendar, due, now):
    assert remaining(due, now, calendar) == -remaining(now, due, calendar)


# --- long spans: whole weeks counted against the day walk -----------------------


def walk_between(start: datetime, end: datetime, calendar: BusinessCalendar) -> timedelta:
    """Reference: the business time inside ``[start, end)``, one local day at a time.

    The clock's original algorithm: from ``start``'s local day on, add each working interval's
    overlap with the span until a day opens at or after ``end``. The clock now counts whole weeks
    arithmetically and must agree with this exactly.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    if end <= start:
        return total
    day = start.astimezone(calendar.zone).date()
    while True:
        interval = day_interval(day, calendar)
        if interval is not None:
            opening, closing = interval
            if opening >= end:
                break
            overlap = min(closing, end) - max(opening, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


ENGLISH_BANK_HOLIDAYS_2026 = {
    date(2026, 1, 1),
    date(2026, 4, 3),
    date(2026, 4, 6),
    date(2026, 5, 4),
    date(2026, 5, 25),
    date(2026, 8, 31),
    date(2026, 12, 25),
    date(2026, 12, 28),
}


def test_a_year_of_weekdays_loses_only_the_holidays_on_weekdays():
    boxing_day = date(2026, 12, 26)  # a Saturday: no working time to lose
    calendar = BusinessCalendar("Europe/London", range(5), time(9), time(17), ENGLISH_BANK_HOLIDAYS_2026 | {boxing_day})
    start, end = london(2026, 1, 1), london(2027, 1, 1)
    # 2026 has 261 weekdays, 8 of them bank holidays; 8 hours each, across both DST changes.
    assert business_time_between(start, end, calendar) == minutes(253 * 480)
    assert remaining(start, end, calendar) == -minutes(253 * 480)


def test_night_hours_lose_the_skipped_hour_inside_whole_weeks():
    calendar = london_calendar(time(0), time(4))
    start, end = london(2026, 3, 1), london(2026, 6, 1)
    # 92 days of 4 hours, but 29 March (spring forward at 01:00) has only 3.
    assert business_time_between(start, end, calendar) == minutes(92 * 240 - 60)
    # A holiday on that very day loses its 3 hours, not 4.
    with_holiday = london_calendar(time(0), time(4), holidays={date(2026, 3, 29)})
    assert business_time_between(start, end, with_holiday) == minutes(91 * 240)


def test_case_breached_three_years_ago_is_late_by_the_walked_time():
    calendar = BusinessCalendar("America/New_York", range(5), time(8, 30), time(18), {date(2027, 7, 5)})
    due = datetime(2025, 11, 3, 17, 45, tzinfo=NEW_YORK)  # the Monday after DST ends
    now = datetime(2028, 11, 6, 9, 15, tzinfo=NEW_YORK)
    assert remaining(due, now, calendar) == -walk_between(due, now, calendar)


def test_local_day_running_past_the_end_in_utc_is_clipped():
    # New York is behind UTC: the span ends at 02:00 UTC on 17 June, 22:00 on 16 June locally,
    # while 16 June's working hours close at 23:00 locally, 03:00 UTC on 17 June.
    calendar = BusinessCalendar("America/New_York", ALL_WEEK, time(9), time(23))
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # 20:00 on 31 May in New York
    end = datetime(2026, 6, 17, 2, 0, tzinfo=UTC)
    # 3 hours on 31 May, 14 hours on each of 1-15 June, 13 hours on 16 June.
    assert business_time_between(start, end, calendar) == timedelta(hours=3 + 15 * 14 + 13)


# Zones whose clocks change, with the local days they changed on, to start spans near and to put
# holidays on (the spring-forward day loses working time on night hours; a holiday then loses less).
DST_CHANGE_DAYS = {
    "Europe/London": [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7)],
    "Australia/Lord_Howe": [date(2026, 4, 5), date(2026, 10, 4)],  # a DST shift of 30 minutes
    # Until 2019 clocks here changed at midnight: 00:00-01:00 skipped, or 23:00-00:00 repeated.
    "America/Sao_Paulo": [date(2017, 10, 15), date(2018, 2, 17), date(2018, 2, 18), date(2018, 11, 4)],
    "Pacific/Apia": [date(2011, 4, 2), date(2011, 9, 24), date(2011, 12, 30)],  # 30 Dec 2011 never happened
    "UTC": [],
}


@st.composite
def long_spans(draw) -> tuple[BusinessCalendar, datetime, datetime]:
    """A random calendar and two instants up to about three years apart, often across DST changes."""
    timezone = draw(st.sampled_from(sorted(DST_CHANGE_DAYS)))
    zone = ZoneInfo(timezone)
    changes = DST_CHANGE_DAYS[timezone]
    earliest, latest = datetime(2009, 1, 1), datetime(2028, 12, 31)
    if changes and draw(st.booleans()):
        change = datetime.combine(draw(st.sampled_from(changes)), time())
        earliest, latest = change - timedelta(days=400), change
    first = draw(st.datetimes(min_value=earliest, max_value=latest, timezones=st.sampled_from([UTC, zone])))
    longest = draw(st.sampled_from([timedelta(days=30), timedelta(days=1100)]))
    span = draw(st.timedeltas(timedelta(0), longest))
    second = (first.astimezone(UTC) + span).astimezone(draw(st.sampled_from([UTC, zone])))

    # Night hours half the time, so that clock changes fall inside working hours.
    opening = draw(st.one_of(st.integers(0, 120), st.integers(0, 24 * 60 - 2)))
    closing = draw(st.integers(opening + 1, 24 * 60 - 1))
    near_span = st.integers(-3, span.days + 3).map(lambda offset: first.date() + timedelta(days=offset))
    holidays = st.one_of(near_span, st.sampled_from(changes)) if changes else near_span
    calendar = BusinessCalendar(
        timezone=timezone,
        workdays=draw(st.one_of(st.just(ALL_WEEK), st.frozensets(st.integers(0, 6), min_size=1))),
        start=time(*divmod(opening, 60)),
        end=time(*divmod(closing, 60)),
        holidays=draw(st.frozensets(holidays, max_size=40)),
    )
    return calendar, first, second


@settings(max_examples=400, deadline=None)
@given(long_spans())
def test_business_time_between_equals_the_day_walk(span):
    calendar, first, second = span
    forwards = walk_between(first, second, calendar)
    assert business_time_between(first, second, calendar) == forwards
    assert business_time_between(second, first, calendar) == walk_between(second, first, calendar)
    assert remaining(second, first, calendar) == forwards
    assert remaining(first, second, calendar) == -forwards
