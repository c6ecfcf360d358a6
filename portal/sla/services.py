"""SLA rules: the targets and calendar in force, starting, pausing and resuming a case's clocks,
the state of a clock at a given moment, and the admin changes to targets and calendar.

Plain functions with explicit arguments; they flush, the caller commits. All business-time
arithmetic is delegated to `portal.sla.clock`.

How a case's clocks work:
- On submission both dues are set from the case's start: `due = start + target` in business time.
- While the case waits on the customer the clock is paused. On resume the paused business time
  (in whole minutes) is added to `sla_paused_minutes`, and the dues still running move later by
  exactly that much business time. So at any moment, outside a pause,
  `resolution_due_at == clock.due_at(created_at, target, calendar, paused=sla_paused_minutes)`.
- The first-response clock stops at the first public staff reply; the resolution clock stops when
  the case is resolved or closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from portal.extensions import db
from portal.models import Account, BusinessCalendar, Case, Holiday, Severity, SlaPolicy, Status, Tier, User
from portal.models.base import utcnow
from portal.services import ServiceError
from portal.sla import clock


@dataclass(frozen=True)
class SlaTargets:
    """Business minutes allowed until the first public staff reply, and until resolution."""

    first_response_minutes: int
    resolution_minutes: int


_H = 60  # minutes in an hour
_D = 8 * _H  # a business day of the default 09:00-17:00 calendar

# Used for any tier × severity without an SlaPolicy row. Monotone: a higher severity or a higher
# tier never gets a longer target than a lower one (tests/test_sla_services.py checks the grid).
DEFAULT_TARGETS: dict[tuple[Tier, Severity], SlaTargets] = {
    (Tier.STANDARD, Severity.CRITICAL): SlaTargets(2 * _H, 2 * _D),
    (Tier.STANDARD, Severity.HIGH): SlaTargets(4 * _H, 3 * _D),
    (Tier.STANDARD, Severity.MEDIUM): SlaTargets(1 * _D, 5 * _D),
    (Tier.STANDARD, Severity.LOW): SlaTargets(2 * _D, 10 * _D),
    (Tier.PREMIUM, Severity.CRITICAL): SlaTargets(1 * _H, 1 * _D),
    (Tier.PREMIUM, Severity.HIGH): SlaTargets(2 * _H, 2 * _D),
    (Tier.PREMIUM, Severity.MEDIUM): SlaTargets(4 * _H, 4 * _D),
    (Tier.PREMIUM, Severity.LOW): SlaTargets(1 * _D, 7 * _D),
    (Tier.STRATEGIC, Severity.CRITICAL): SlaTargets(30, 4 * _H),
    (Tier.STRATEGIC, Severity.HIGH): SlaTargets(1 * _H, 1 * _D),
    (Tier.STRATEGIC, Severity.MEDIUM): SlaTargets(2 * _H, 3 * _D),
    (Tier.STRATEGIC, Severity.LOW): SlaTargets(4 * _H, 5 * _D),
}

# The longest target an admin may set: 60 business days of 8 hours.
MAX_TARGET_MINUTES = 60 * _D

# A running clock is "due soon" once the business time left is at most the larger of these two:
# a quarter of the target, or one business hour. The quarter scales with long targets (2.5 days'
# warning on a 10-day resolution); the hour keeps short ones from warning only minutes ahead (a
# quarter of 30 minutes would be 7.5), so a 30- or 60-minute target is due soon from its start.
DUE_SOON_FRACTION = 0.25
DUE_SOON_MINIMUM = dt.timedelta(hours=1)

CALENDAR_NAME = "Support hours"

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"


# --- what is in force ---------------------------------------------------------------------------


def effective_targets(tier: Tier, severity: Severity) -> SlaTargets:
    """The targets for `tier` × `severity`: the SlaPolicy row when there is one, else the default."""
    row = db.session.scalar(
        sa.select(SlaPolicy).where(SlaPolicy.tier == Tier(tier), SlaPolicy.severity == Severity(severity))
    )
    if row is None:
        return DEFAULT_TARGETS[(Tier(tier), Severity(severity))]
    return SlaTargets(row.first_response_minutes, row.resolution_minutes)


@dataclass(frozen=True)
class PolicyRow:
    """One line of the admin grid: the targets in force and whether an admin has set them."""

    tier: Tier
    severity: Severity
    targets: SlaTargets
    policy: SlaPolicy | None

    @property
    def is_default(self) -> bool:
        return self.policy is None


def fetch_policy_grid() -> list[PolicyRow]:
    """Every tier × severity (tier by tier, most severe first) with the targets in force. One query."""
    rows = {(p.tier, p.severity): p for p in db.session.scalars(sa.select(SlaPolicy))}
    grid = []
    for tier in Tier:
        for severity in reversed(Severity):
            policy = rows.get((tier, severity))
            targets = (
                SlaTargets(policy.first_response_minutes, policy.resolution_minutes)
                if policy
                else DEFAULT_TARGETS[(tier, severity)]
            )
            grid.append(PolicyRow(tier, severity, targets, policy))
    return grid


def fetch_calendar_row() -> BusinessCalendar | None:
    """The portal's calendar row with its holidays, or None while the default applies."""
    return db.session.scalar(
        sa.select(BusinessCalendar).options(selectinload(BusinessCalendar.holidays)).order_by(BusinessCalendar.id)
    )


def business_calendar() -> clock.BusinessCalendar:
    """The calendar the clocks run on: the stored one with its holidays, else `clock.DEFAULT_CALENDAR`."""
    row = fetch_calendar_row()
    if row is None:
        return clock.DEFAULT_CALENDAR
    return clock.BusinessCalendar(
        timezone=row.timezone,
        workdays=row.workday_numbers,
        start=row.start_time,
        end=row.end_time,
        holidays=frozenset(holiday.date for holiday in row.holidays),
    )


def _case_targets(case: Case) -> SlaTargets:
    # `session.get` rather than `case.account`: a case being submitted is still pending, and a
    # pending object does not load its relationships.
    account = db.session.get(Account, case.account_id)
    return effective_targets(account.tier, case.severity)


def _minutes(amount: dt.timedelta) -> int:
    """Business time as the whole minutes the case stores (nearest minute)."""
    return round(amount / dt.timedelta(minutes=1))


# --- a case's clocks ----------------------------------------------------------------------------


def start_clocks(case: Case, *, now: dt.datetime) -> Case:
    """Start both clocks at `now` (the submission time): set the first-response and resolution dues
    from the account's tier and the case's severity, with nothing paused yet."""
    targets = _case_targets(case)
    calendar = business_calendar()
    case.first_response_due_at = clock.due_at(now, targets.first_response_minutes, calendar)
    case.resolution_due_at = clock.due_at(now, targets.resolution_minutes, calendar)
    case.sla_paused_at = None
    case.sla_paused_minutes = 0
    return case


def pause_clock(case: Case, *, now: dt.datetime) -> Case:
    """Stop the clock at `now` (the case now waits on the customer). Pausing a paused clock keeps
    the original pause time."""
    if case.sla_paused_at is None:
        case.sla_paused_at = now
    return case


def resume_clock(case: Case, *, now: dt.datetime) -> Case:
    """Restart a paused clock at `now`.

    The business time between the pause and `now`, rounded to whole minutes, is added to
    `sla_paused_minutes` and pushes the resolution due later by that much business time; the
    first-response due moves too while no first response has been given. Resuming a clock that is
    not paused changes nothing.
    """
    if case.sla_paused_at is None:
        return case
    calendar = business_calendar()
    paused = _minutes(clock.business_time_between(case.sla_paused_at, now, calendar))
    case.sla_paused_at = None
    if paused <= 0:
        return case
    case.sla_paused_minutes += paused
    if case.resolution_due_at is not None:
        case.resolution_due_at = clock.add_business_minutes(case.resolution_due_at, paused, calendar)
    if case.first_response_due_at is not None and case.first_response_at is None:
        case.first_response_due_at = clock.add_business_minutes(case.first_response_due_at, paused, calendar)
    return case


def restart_for_severity_change(case: Case, *, now: dt.datetime) -> Case:
    """Recompute the dues from `created_at` with the targets for the case's (new) severity.

    Time already paused still counts in the customer's favour. A first-response due is only
    recomputed while the first response is still owed (every pause so far was before it); once
    given, that target is settled and its due stays as it was. `now` is accepted for symmetry with
    the other clock functions and for callers that record when the change happened.
    """
    targets = _case_targets(case)
    calendar = business_calendar()
    paused = dt.timedelta(minutes=case.sla_paused_minutes)
    case.resolution_due_at = clock.due_at(case.created_at, targets.resolution_minutes, calendar, paused=paused)
    if case.first_response_at is None:
        case.first_response_due_at = clock.due_at(
            case.created_at, targets.first_response_minutes, calendar, paused=paused
        )
    return case


@dataclass(frozen=True)
class SlaState:
    """Where a case's SLA stands at one moment.

    `target` is the clock that applies: "first_response" until the first public staff reply,
    then "resolution"; None once the case is resolved or closed (or has no dues), when every
    other field is empty. A paused clock is read at the moment it was paused: nothing runs, so
    `remaining`, `breached` and `due_soon` hold still until it resumes.
    """

    target: str | None = None
    due_at: dt.datetime | None = None
    target_minutes: int | None = None
    paused: bool = False
    breached: bool = False
    due_soon: bool = False
    remaining: dt.timedelta | None = None  # business time left; negative: business time overdue

    @property
    def running(self) -> bool:
        return self.target is not None


NO_CLOCK = SlaState()


def sla_state(
    case: Case,
    *,
    now: dt.datetime,
    calendar: clock.BusinessCalendar | None = None,
    targets: SlaTargets | None = None,
) -> SlaState:
    """The state of `case`'s SLA clock at `now`.

    Breached: the moment being read is after the due (strictly; exactly at the due is on time).
    Due soon: not breached and the business time left is at most the larger of a quarter of the
    target and one business hour (see DUE_SOON_FRACTION). Pass `calendar` and `targets` when
    reading many cases at once to spare their queries.
    """
    if case.status in (Status.RESOLVED, Status.CLOSED):
        return NO_CLOCK
    if case.first_response_at is None:
        target, due = FIRST_RESPONSE, case.first_response_due_at
    else:
        target, due = RESOLUTION, case.resolution_due_at
    if due is None:
        return NO_CLOCK
    calendar = calendar or business_calendar()
    targets = targets or _case_targets(case)
    minutes = targets.first_response_minutes if target == FIRST_RESPONSE else targets.resolution_minutes
    paused = case.sla_paused_at is not None
    moment = case.sla_paused_at if paused else now
    left = clock.remaining(due, moment, calendar)
    breached = moment > due
    warning = max(dt.timedelta(minutes=minutes) * DUE_SOON_FRACTION, DUE_SOON_MINIMUM)
    return SlaState(
        target=target,
        due_at=due,
        target_minutes=minutes,
        paused=paused,
        breached=breached,
        due_soon=not breached and left <= warning,
        remaining=left,
    )


def sla_states(cases, *, now: dt.datetime) -> dict[int, SlaState]:
    """`sla_state` for many cases at once, by case id, in the same few queries however many cases (load each
    case's account beforehand, as the case lists do)."""
    calendar = business_calendar()
    targets = {(row.tier, row.severity): row.targets for row in fetch_policy_grid()}
    return {
        case.id: sla_state(case, now=now, calendar=calendar, targets=targets[(case.account.tier, case.severity)])
        for case in cases
    }


# --- admin changes ------------------------------------------------------------------------------


def _check_minutes(value, field: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ServiceError(f"{label} must be a whole number of minutes.", field=field)
    if value <= 0:
        raise ServiceError(f"{label} must be at least 1 minute.", field=field)
    if value > MAX_TARGET_MINUTES:
        raise ServiceError(
            f"{label} can be at most {MAX_TARGET_MINUTES:,} minutes (60 business days of 8 hours).", field=field
        )
    return value


def update_policy(
    tier: Tier, severity: Severity, *, first_response_minutes: int, resolution_minutes: int, actor: User
) -> SlaPolicy:
    """Set the targets for `tier` × `severity`, creating its SlaPolicy row on first change.

    Both are whole business minutes from 1 to MAX_TARGET_MINUTES, and the first response may not
    take longer than the resolution. Cases already open keep their dues; new cases and severity
    changes use the new targets.
    """
    first = _check_minutes(first_response_minutes, "first_response_minutes", "First response")
    resolution = _check_minutes(resolution_minutes, "resolution_minutes", "Resolution")
    if first > resolution:
        raise ServiceError("The first response cannot take longer than the resolution.", field="first_response_minutes")
    tier, severity = Tier(tier), Severity(severity)
    policy = db.session.scalar(sa.select(SlaPolicy).where(SlaPolicy.tier == tier, SlaPolicy.severity == severity))
    if policy is None:
        policy = SlaPolicy(tier=tier, severity=severity)
        db.session.add(policy)
    policy.first_response_minutes = first
    policy.resolution_minutes = resolution
    policy.updated_at = utcnow()
    policy.updated_by_id = actor.id
    db.session.flush()
    return policy


def _calendar_row_for_change() -> BusinessCalendar:
    """The calendar row, created from the default calendar the first time an admin changes anything."""
    row = fetch_calendar_row()
    if row is None:
        default = clock.DEFAULT_CALENDAR
        row = BusinessCalendar(
            name=CALENDAR_NAME,
            timezone=default.timezone,
            workdays=",".join(str(day) for day in sorted(default.workdays)),
            start_time=default.start,
            end_time=default.end,
        )
        db.session.add(row)
    return row


def update_calendar(
    *, timezone: str, workdays, start_time: dt.time, end_time: dt.time, actor: User
) -> BusinessCalendar:
    """Set the time zone, working days (Monday=0 … Sunday=6) and daily hours of the calendar.

    The zone must be a known IANA name, there must be at least one working day, and the day must
    start before it ends. Cases already open keep their dues.
    """
    timezone = (timezone or "").strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError("Choose a time zone from the list.", field="timezone") from None
    days = sorted(set(workdays or ()))
    if not days:
        raise ServiceError("Choose at least one working day.", field="workdays")
    if any(isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6 for day in days):
        raise ServiceError("Working days must be days of the week.", field="workdays")
    if start_time is None:
        raise ServiceError("Enter the time the working day starts.", field="start_time")
    if end_time is None:
        raise ServiceError("Enter the time the working day ends.", field="end_time")
    if not start_time < end_time:
        raise ServiceError("The working day must end after it starts.", field="end_time")
    row = _calendar_row_for_change()
    row.timezone = timezone
    row.workdays = ",".join(str(day) for day in days)
    row.start_time = start_time.replace(second=0, microsecond=0)
    row.end_time = end_time.replace(second=0, microsecond=0)
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    db.session.flush()
    return row


def add_holiday(*, date: dt.date, name: str, actor: User) -> Holiday:
    """Add a non-working date (local to the calendar) with a name. Each date may be listed once."""
    name = (name or "").strip()
    if date is None:
        raise ServiceError("Enter the date of the holiday.", field="date")
    if not name:
        raise ServiceError("Give the holiday a name.", field="name")
    row = _calendar_row_for_change()
    if any(holiday.date == date for holiday in row.holidays):
        raise ServiceError(f"{date:%d %B %Y} is already a holiday.", field="date")
    holiday = Holiday(date=date, name=name)
    row.holidays.append(holiday)
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    db.session.flush()
    return holiday


def remove_holiday(holiday_id: int, *, actor: User) -> Holiday:
    """Delete a holiday: that date becomes an ordinary day again. An unknown id is a 404."""
    holiday = db.session.get(Holiday, holiday_id)
    if holiday is None:
        raise NotFound()
    calendar = holiday.calendar
    calendar.holidays.remove(holiday)
    calendar.updated_at = utcnow()
    calendar.updated_by_id = actor.id
    db.session.flush()
    return holiday
