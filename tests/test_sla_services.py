"""SLA services: targets and calendar in force, starting, pausing and resuming clocks, and clock state.

Times are named London wall-clock times in the plain BST week of Monday 1 June 2026, on the default
calendar (Monday to Friday, 09:00-17:00, Europe/London) unless a test changes it. Account A is
premium, account B standard (see the `world` fixture).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from portal.cases import services as case_services
from portal.cases import workflow
from portal.extensions import db
from portal.models import Case, Holiday, Kind, Severity, SlaPolicy, Status, Tier
from portal.services import ServiceError
from portal.sla import clock, services
from portal.sla.services import DEFAULT_TARGETS, SlaTargets
from tests import factories

LONDON = ZoneInfo("Europe/London")
SEVERITY_ORDER = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
TIER_ORDER = [Tier.STANDARD, Tier.PREMIUM, Tier.STRATEGIC]


def london(day: int, hour: int, minute: int = 0, month: int = 6) -> datetime:
    """A London wall-clock time in June 2026 (1 June is a Monday), as aware UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


@pytest.fixture
def frozen(monkeypatch):
    """`frozen(t)` makes the case services and the workflow believe it is `t`."""

    def set_now(moment: datetime) -> datetime:
        monkeypatch.setattr(case_services, "utcnow", lambda: moment)
        monkeypatch.setattr(workflow, "utcnow", lambda: moment)
        return moment

    return set_now


def submit(requester, severity=Severity.HIGH) -> Case:
    return case_services.submit_case(
        requester=requester,
        kind=Kind.ISSUE,
        category="bug",
        severity=severity,
        subject="Exports fail",
        description="Every export stops half way.",
    )


def open_case(world, frozen, *, at: datetime, severity=Severity.HIGH, requester=None) -> Case:
    """A case submitted at `at` and triaged to open at the same moment."""
    frozen(at)
    case = submit(requester or world.alice, severity)
    workflow.transition(case, Status.OPEN, actor=world.manager_a)
    return case


# --- defaults and overrides -----------------------------------------------------------------------


def test_default_grid_covers_every_tier_and_severity_with_the_agreed_corners():
    assert set(DEFAULT_TARGETS) == {(tier, severity) for tier in Tier for severity in Severity}
    assert DEFAULT_TARGETS[(Tier.STRATEGIC, Severity.CRITICAL)] == SlaTargets(30, 240)
    assert DEFAULT_TARGETS[(Tier.STANDARD, Severity.LOW)] == SlaTargets(960, 4800)


@pytest.mark.parametrize("field", ["first_response_minutes", "resolution_minutes"])
def test_default_grid_never_gives_a_higher_severity_or_tier_a_longer_target(field):
    for tier in Tier:
        values = [getattr(DEFAULT_TARGETS[(tier, s)], field) for s in SEVERITY_ORDER]
        assert values == sorted(values, reverse=True), (tier, values)
    for severity in Severity:
        values = [getattr(DEFAULT_TARGETS[(t, severity)], field) for t in TIER_ORDER]
        assert values == sorted(values, reverse=True), (severity, values)


def test_default_first_response_never_longer_than_resolution():
    for key, targets in DEFAULT_TARGETS.items():
        assert 0 < targets.first_response_minutes <= targets.resolution_minutes, key


def test_effective_targets_are_the_defaults_until_an_admin_sets_a_row(world):
    assert services.effective_targets(Tier.PREMIUM, Severity.HIGH) == DEFAULT_TARGETS[(Tier.PREMIUM, Severity.HIGH)]
    services.update_policy(
        Tier.PREMIUM, Severity.HIGH, first_response_minutes=45, resolution_minutes=600, actor=world.admin
    )
    assert services.effective_targets(Tier.PREMIUM, Severity.HIGH) == SlaTargets(45, 600)
    # Only that cell changes.
    assert services.effective_targets(Tier.PREMIUM, Severity.LOW) == DEFAULT_TARGETS[(Tier.PREMIUM, Severity.LOW)]


def test_policy_grid_marks_which_cells_an_admin_has_set(world):
    services.update_policy(
        Tier.STANDARD, Severity.LOW, first_response_minutes=600, resolution_minutes=3000, actor=world.admin
    )
    grid = services.fetch_policy_grid()
    assert len(grid) == len(Tier) * len(Severity)
    custom = [row for row in grid if not row.is_default]
    assert [(row.tier, row.severity, row.targets) for row in custom] == [
        (Tier.STANDARD, Severity.LOW, SlaTargets(600, 3000))
    ]
    assert custom[0].policy.updated_by_id == world.admin.id


def test_business_calendar_is_the_default_until_one_is_stored(world):
    assert services.business_calendar() == clock.DEFAULT_CALENDAR
    services.update_calendar(
        timezone="America/New_York", workdays=[0, 1, 2], start_time=time(8), end_time=time(16, 30), actor=world.admin
    )
    services.add_holiday(date=date(2026, 7, 3), name="Independence Day (observed)", actor=world.admin)
    assert services.business_calendar() == clock.BusinessCalendar(
        "America/New_York", {0, 1, 2}, time(8), time(16, 30), {date(2026, 7, 3)}
    )


def test_a_holiday_alone_creates_the_calendar_from_the_default_hours(world):
    services.add_holiday(date=date(2026, 12, 25), name="Christmas Day", actor=world.admin)
    calendar = services.business_calendar()
    assert (calendar.timezone, calendar.workdays, calendar.start, calendar.end) == (
        "Europe/London",
        frozenset(range(5)),
        time(9),
        time(17),
    )
    assert calendar.holidays == {date(2026, 12, 25)}


# --- starting the clocks --------------------------------------------------------------------------


def test_submitting_a_case_starts_both_clocks_from_tier_and_severity(world, frozen):
    frozen(london(1, 10))  # Monday 10:00
    case = submit(world.alice, Severity.HIGH)  # premium / high: 2 h and 2 business days
    assert case.first_response_due_at == london(1, 12)
    assert case.resolution_due_at == london(3, 10)  # Wednesday 10:00
    assert (case.sla_paused_at, case.sla_paused_minutes) == (None, 0)


def test_standard_tier_gets_the_standard_targets(world, frozen):
    frozen(london(5, 16))  # Friday 16:00: the clock runs one hour, then stops for the weekend
    case = submit(world.bob, Severity.LOW)  # standard / low: 2 and 10 business days
    assert case.first_response_due_at == london(9, 16)  # Tuesday 16:00
    assert case.resolution_due_at == london(19, 16)  # a fortnight later


def test_a_policy_row_overrides_the_default_for_new_cases(world, frozen):
    services.update_policy(
        Tier.PREMIUM, Severity.HIGH, first_response_minutes=30, resolution_minutes=90, actor=world.admin
    )
    frozen(london(1, 10))
    case = submit(world.alice, Severity.HIGH)
    assert (case.first_response_due_at, case.resolution_due_at) == (london(1, 10, 30), london(1, 11, 30))


def test_a_holiday_is_skipped_by_a_new_case_clock(world, frozen):
    services.add_holiday(date=date(2026, 6, 2), name="Company day", actor=world.admin)
    frozen(london(1, 16))  # Monday 16:00; Tuesday is a holiday
    case = submit(world.alice, Severity.HIGH)  # 120 minutes: 60 on Monday, 60 on Wednesday
    assert case.first_response_due_at == london(3, 10)


def test_the_first_public_staff_reply_is_the_first_response(world, frozen):
    case = open_case(world, frozen, at=london(1, 10))
    frozen(london(1, 10, 20))
    case_services.reply_to_case(case, author=world.alice, body="Any news?")
    assert case.first_response_at is None
    case_services.add_internal_note(case, author=world.manager_a, body="Looking")
    assert case.first_response_at is None
    frozen(london(1, 10, 40))
    case_services.reply_to_case(case, author=world.manager_a, body="On it")
    assert case.first_response_at == london(1, 10, 40)
    assert services.sla_state(case, now=london(1, 11)).target == services.RESOLUTION


# --- pausing while waiting on the customer --------------------------------------------------------


def test_waiting_on_customer_pauses_and_the_customer_reply_resumes_later_by_the_paused_time(world, frozen):
    case = open_case(world, frozen, at=london(1, 10))
    frozen(london(1, 10, 30))
    case_services.reply_to_case(case, author=world.manager_a, body="Which export?")
    first_due, resolution_due = case.first_response_due_at, case.resolution_due_at

    frozen(london(1, 16))  # Monday 16:00
    workflow.transition(case, Status.WAITING_ON_CUSTOMER, actor=world.manager_a)
    assert case.sla_paused_at == london(1, 16)
    assert case.resolution_due_at == resolution_due  # nothing moves until it resumes

    frozen(london(2, 11))  # Tuesday 11:00: one business hour Monday, two Tuesday
    case_services.reply_to_case(case, author=world.alice, body="The monthly one")
    assert case.status == Status.OPEN
    assert case.sla_paused_at is None
    assert case.sla_paused_minutes == 180
    assert case.resolution_due_at == clock.add_business_minutes(resolution_due, 180, clock.DEFAULT_CALENDAR)
    assert case.resolution_due_at == london(3, 13)  # Wednesday 10:00 + 3 business hours
    assert case.first_response_due_at == first_due  # already answered: that clock has stopped


def test_a_pause_before_the_first_response_moves_both_dues(world, frozen):
    case = open_case(world, frozen, at=london(1, 10))
    frozen(london(1, 10, 30))
    workflow.transition(case, Status.WAITING_ON_CUSTOMER, actor=world.manager_a)
    frozen(london(1, 11, 30))
    case_services.reply_to_case(case, author=world.alice, body="Here are the details")
    assert case.sla_paused_minutes == 60
    assert case.first_response_due_at == london(1, 13)
    assert case.resolution_due_at == london(3, 11)


def test_a_pause_over_the_weekend_counts_only_business_time(world):
    case = factories.make_case(requester=world.alice, severity=Severity.HIGH, created_at=london(5, 9))
    services.start_clocks(case, now=london(5, 9))  # Friday 09:00
    due = case.resolution_due_at
    services.pause_clock(case, now=london(5, 16))  # Friday 16:00
    services.resume_clock(case, now=london(8, 10))  # Monday 10:00
    assert case.sla_paused_minutes == 120
    assert case.resolution_due_at == clock.add_business_minutes(due, 120, clock.DEFAULT_CALENDAR)


def test_pauses_add_up_and_dues_stay_equal_to_start_plus_target_plus_pauses(world):
    case = factories.make_case(requester=world.alice, severity=Severity.MEDIUM, created_at=london(1, 9))
    services.start_clocks(case, now=london(1, 9))
    for begin, end in [(london(1, 10), london(1, 10, 45)), (london(2, 15), london(3, 9, 30))]:
        services.pause_clock(case, now=begin)
        services.resume_clock(case, now=end)
    assert case.sla_paused_minutes == 45 + 150
    targets = services.effective_targets(Tier.PREMIUM, Severity.MEDIUM)
    assert case.resolution_due_at == clock.due_at(
        london(1, 9), targets.resolution_minutes, clock.DEFAULT_CALENDAR, paused=minutes(195)
    )


def test_pausing_twice_keeps_the_first_pause_and_resuming_an_unpaused_clock_changes_nothing(world):
    case = factories.make_case(requester=world.alice, created_at=london(1, 9))
    services.start_clocks(case, now=london(1, 9))
    dues = (case.first_response_due_at, case.resolution_due_at)
    services.resume_clock(case, now=london(1, 12))
    assert (case.first_response_due_at, case.resolution_due_at, case.sla_paused_minutes) == (*dues, 0)
    services.pause_clock(case, now=london(1, 10))
    services.pause_clock(case, now=london(1, 11))
    assert case.sla_paused_at == london(1, 10)


def test_a_pause_entirely_outside_working_hours_moves_nothing(world):
    case = factories.make_case(requester=world.alice, created_at=london(1, 9))
    services.start_clocks(case, now=london(1, 9))
    dues = (case.first_response_due_at, case.resolution_due_at)
    services.pause_clock(case, now=london(1, 18))
    services.resume_clock(case, now=london(2, 8))
    assert (case.first_response_due_at, case.resolution_due_at, case.sla_paused_minutes) == (*dues, 0)
    assert case.sla_paused_at is None


def test_resolving_a_waiting_case_stops_the_pause_too(world, frozen):
    case = open_case(world, frozen, at=london(1, 10))
    frozen(london(1, 11))
    workflow.transition(case, Status.WAITING_ON_CUSTOMER, actor=world.manager_a)
    frozen(london(1, 12))
    workflow.transition(case, Status.RESOLVED, actor=world.manager_a)
    assert case.sla_paused_at is None
    assert case.sla_paused_minutes == 60


# --- severity changes -----------------------------------------------------------------------------


def test_severity_change_recomputes_dues_from_creation_keeping_paused_time(world):
    case = factories.make_case(requester=world.alice, severity=Severity.MEDIUM, created_at=london(1, 10))
    services.start_clocks(case, now=london(1, 10))
    services.pause_clock(case, now=london(1, 11))
    services.resume_clock(case, now=london(1, 12))  # 60 minutes paused
    case.severity = Severity.CRITICAL  # premium / critical: 1 h and 1 business day
    services.restart_for_severity_change(case, now=london(1, 13))
    assert case.first_response_due_at == london(1, 12)  # 10:00 + 60 + 60 paused
    assert case.resolution_due_at == london(2, 11)  # 10:00 + 480 + 60: Tuesday 11:00


def test_severity_change_after_the_first_response_leaves_its_due_alone(world):
    case = factories.make_case(requester=world.alice, severity=Severity.LOW, created_at=london(1, 10))
    services.start_clocks(case, now=london(1, 10))
    first_due = case.first_response_due_at
    case.first_response_at = london(1, 11)
    case.severity = Severity.HIGH
    services.restart_for_severity_change(case, now=london(1, 12))
    assert case.first_response_due_at == first_due
    assert case.resolution_due_at == london(3, 10)  # premium / high: 2 business days


# --- the state of a clock -------------------------------------------------------------------------


@pytest.fixture
def medium_case(world):
    """Premium / medium (4 h and 4 business days), started Monday 09:00: the first response is due
    Monday 13:00, the resolution Thursday 17:00."""
    case = factories.make_case(requester=world.alice, severity=Severity.MEDIUM, created_at=london(1, 9))
    services.start_clocks(case, now=london(1, 9))
    assert (case.first_response_due_at, case.resolution_due_at) == (london(1, 13), london(4, 17))
    return case


@pytest.mark.parametrize(
    ("now", "remaining", "due_soon", "breached"),
    [
        (london(1, 11), minutes(120), False, False),
        (london(1, 11, 59), minutes(61), False, False),
        (london(1, 12), minutes(60), True, False),  # one business hour left: due soon
        (london(1, 13), minutes(0), True, False),  # exactly at the due: still on time
        (london(1, 13, 1), minutes(-1), False, True),
    ],
)
def test_first_response_state_at_named_times(medium_case, now, remaining, due_soon, breached):
    state = services.sla_state(medium_case, now=now)
    assert (state.target, state.due_at, state.target_minutes) == (services.FIRST_RESPONSE, london(1, 13), 240)
    assert (state.remaining, state.due_soon, state.breached, state.paused) == (remaining, due_soon, breached, False)


@pytest.mark.parametrize(("now", "due_soon"), [(london(1, 9, 59), False), (london(1, 10), True)])
def test_short_targets_are_due_soon_in_their_last_business_hour(world, now, due_soon):
    case = factories.make_case(requester=world.alice, severity=Severity.HIGH, created_at=london(1, 9))
    services.start_clocks(case, now=london(1, 9))  # premium / high: 120 minutes, due 11:00
    state = services.sla_state(case, now=now)
    assert state.due_at == london(1, 11)
    assert state.due_soon is due_soon  # a quarter of the target would warn only from 10:30


@pytest.mark.parametrize(
    ("now", "due_soon"),
    [
        (london(3, 16, 59), False),  # 481 business minutes left
        (london(4, 9), True),  # 480 left: a quarter of the 1,920-minute target, more than an hour
    ],
)
def test_long_targets_are_due_soon_in_their_last_quarter(medium_case, now, due_soon):
    medium_case.first_response_at = london(1, 10)
    state = services.sla_state(medium_case, now=now)
    assert state.target == services.RESOLUTION
    assert state.due_soon is due_soon
    assert state.breached is False


def test_a_clock_past_its_due_after_hours_is_breached_with_no_business_time_overdue(medium_case):
    medium_case.first_response_at = london(1, 10)
    state = services.sla_state(medium_case, now=london(4, 18))  # Thursday 18:00, due 17:00
    assert (state.breached, state.due_soon, state.remaining) == (True, False, timedelta(0))
    state = services.sla_state(medium_case, now=london(5, 10))
    assert (state.breached, state.remaining) == (True, minutes(-60))


def test_a_paused_clock_holds_still_at_the_moment_it_was_paused(medium_case):
    medium_case.first_response_at = london(1, 10)
    services.pause_clock(medium_case, now=london(2, 9))
    state = services.sla_state(medium_case, now=london(12, 9))  # long after the due
    assert (state.paused, state.breached, state.due_soon) == (True, False, False)
    assert state.remaining == minutes(3 * 480)


def test_a_clock_paused_after_its_due_stays_breached(medium_case):
    services.pause_clock(medium_case, now=london(1, 14))
    state = services.sla_state(medium_case, now=london(1, 15))
    assert (state.paused, state.breached, state.remaining) == (True, True, minutes(-60))


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_no_clock_runs_once_resolved_or_closed(medium_case, status):
    medium_case.status = status
    state = services.sla_state(medium_case, now=london(9, 9))
    assert state == services.NO_CLOCK
    assert (state.running, state.breached, state.due_soon) == (False, False, False)


def test_a_case_without_dues_has_no_clock(world):
    case = factories.make_case(requester=world.alice)
    assert services.sla_state(case, now=london(1, 9)).running is False


def test_states_for_a_list_match_the_single_case_states(world, medium_case):
    other = factories.make_case(requester=world.bob, severity=Severity.CRITICAL, created_at=london(1, 9))
    services.start_clocks(other, now=london(1, 9))
    resolved = factories.make_case(requester=world.bob, status=Status.RESOLVED)
    states = services.sla_states([medium_case, other, resolved], now=london(1, 12))
    assert states == {case.id: services.sla_state(case, now=london(1, 12)) for case in (medium_case, other, resolved)}
    assert states[other.id].breached is True  # standard / critical: 2 h, due 11:00


# --- admin changes refuse bad input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "resolution", "field", "message"),
    [
        (0, 60, "first_response_minutes", "at least 1 minute"),
        (30, -5, "resolution_minutes", "at least 1 minute"),
        (30, services.MAX_TARGET_MINUTES + 1, "resolution_minutes", "at most 28,800"),
        (120, 60, "first_response_minutes", "cannot take longer"),
        (None, 60, "first_response_minutes", "whole number"),
    ],
)
def test_update_policy_refuses_bad_targets_and_writes_nothing(world, first, resolution, field, message):
    with pytest.raises(ServiceError, match=message) as error:
        services.update_policy(
            Tier.PREMIUM, Severity.HIGH, first_response_minutes=first, resolution_minutes=resolution, actor=world.admin
        )
    assert error.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(SlaPolicy.id))) == 0


def test_update_policy_accepts_the_maximum_and_changes_an_existing_row(world):
    services.update_policy(
        Tier.STANDARD, Severity.LOW, first_response_minutes=60, resolution_minutes=120, actor=world.admin
    )
    services.update_policy(
        Tier.STANDARD,
        Severity.LOW,
        first_response_minutes=services.MAX_TARGET_MINUTES,
        resolution_minutes=services.MAX_TARGET_MINUTES,
        actor=world.admin,
    )
    rows = db.session.scalars(sa.select(SlaPolicy)).all()
    assert [(r.first_response_minutes, r.resolution_minutes) for r in rows] == [(28_800, 28_800)]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "time zone"),
        ({"timezone": ""}, "timezone", "time zone"),
        ({"workdays": []}, "workdays", "at least one working day"),
        ({"workdays": [7]}, "workdays", "days of the week"),
        ({"start_time": time(17), "end_time": time(9)}, "end_time", "end after it starts"),
        ({"start_time": time(9), "end_time": time(9)}, "end_time", "end after it starts"),
    ],
)
def test_update_calendar_refuses_bad_settings_and_writes_nothing(world, changes, field, message):
    settings = {"timezone": "Europe/Paris", "workdays": [0, 1], "start_time": time(9), "end_time": time(17)} | changes
    with pytest.raises(ServiceError, match=message) as error:
        services.update_calendar(**settings, actor=world.admin)
    assert error.value.field == field
    assert services.fetch_calendar_row() is None


def test_a_date_can_be_a_holiday_only_once(world):
    services.add_holiday(date=date(2026, 12, 25), name="Christmas Day", actor=world.admin)
    with pytest.raises(ServiceError, match="already a holiday") as error:
        services.add_holiday(date=date(2026, 12, 25), name="Christmas again", actor=world.admin)
    assert error.value.field == "date"
    assert [h.name for h in db.session.scalars(sa.select(Holiday))] == ["Christmas Day"]


def test_removing_a_holiday_makes_it_an_ordinary_day(world):
    holiday = services.add_holiday(date=date(2026, 6, 2), name="Company day", actor=world.admin)
    services.remove_holiday(holiday.id, actor=world.admin)
    assert services.business_calendar().holidays == frozenset()
    with pytest.raises(NotFound):
        services.remove_holiday(holiday.id, actor=world.admin)
