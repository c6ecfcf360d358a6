"""Report queries: aggregate SQL only. No query here loads cases into Python; each returns a few
rows per group, and each is one statement whatever the data size.

Definitions (the same on SQLite and PostgreSQL):
- A period is [start, end). "Cases of a period" are the cases *created* in it; their times, SLA
  results, escalation levels and ratings are reported as they stand now (the cohort view).
- Several periods are answered by one statement: a CASE expression puts each row in its period's
  bucket (0, 1, …, in the order given) and the query groups by bucket.
- Durations are whole seconds (rounded): on PostgreSQL `EXTRACT(EPOCH FROM later - earlier)`, on
  SQLite `(julianday(later) - julianday(earlier)) * 86400` (see `seconds_between`).
- Percentiles are nearest-rank: of n values sorted ascending, the p-th percentile is the value at
  1-based position ceil(p/100 · n), computed with ROW_NUMBER() and COUNT() OVER each group and the
  integer ceiling (n·p + 99) // 100. The median is p = 50 (for even n, the lower middle value).
- SLA: of the cases with a target whose result is known — met (answered / resolved by the due
  time) or missed (answered late, or still unanswered after the due time) — the share met. Cases
  still within their target are not counted yet.
- CSAT: of the resolved or closed cases that were rated, the share rated 4 or 5; the response
  rate is rated / resolved-or-closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from portal.extensions import db
from portal.models import OPEN_STATUSES, Account, AccountStatus, Case, Escalation, Kind, Status, User
from portal.reports.periods import Period
from portal.reports.scope import Scope

RESOLVED_STATUSES = (Status.RESOLVED, Status.CLOSED)
HEALTH_WINDOW = timedelta(days=90)
SUGGESTION_SAMPLE = 40  # subjects fetched per category for grouping similar suggestions
AGE_BUCKETS = (  # (label, upper bound of age) — the last is open-ended
    ("Under 1 day", timedelta(days=1)),
    ("1–3 days", timedelta(days=3)),
    ("3–7 days", timedelta(days=7)),
    ("1–4 weeks", timedelta(days=28)),
    ("Over 4 weeks", None),
)


# --- portable SQL pieces ------------------------------------------------------------------------


class seconds_between(FunctionElement):  # noqa: N801 (an SQL function)
    """`later - earlier` in seconds (a float), whatever the database."""

    type = sa.Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between_default(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def whole_seconds(later, earlier):
    return sa.cast(sa.func.round(seconds_between(later, earlier)), sa.Integer)


def _int(value: int):
    return sa.literal_column(str(int(value)), sa.Integer)


def _text(value: str):
    return sa.literal_column("'" + value.replace("'", "''") + "'", sa.String)


def _bucket(column, periods: list[Period]):
    """The index of the period `column` falls in (NULL for none)."""
    return sa.case(*((sa.and_(column >= p.start, column < p.end), _int(i)) for i, p in enumerate(periods)))


def _within(column, periods: list[Period]):
    return sa.and_(column >= min(p.start for p in periods), column < max(p.end for p in periods))


def _count_if(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _first_response_decided(now):
    return sa.and_(
        Case.first_response_due_at.is_not(None),
        sa.or_(Case.first_response_at.is_not(None), Case.first_response_due_at < now),
    )


def _first_response_met():
    return sa.and_(Case.first_response_at.is_not(None), Case.first_response_at <= Case.first_response_due_at)


def _resolution_decided(now):
    return sa.and_(
        Case.resolution_due_at.is_not(None), sa.or_(Case.resolved_at.is_not(None), Case.resolution_due_at < now)
    )


def _resolution_met():
    return sa.and_(Case.resolved_at.is_not(None), Case.resolved_at <= Case.resolution_due_at)


def _breached(now):
    """Either target missed (late, or overdue with no answer / resolution yet)."""
    return sa.or_(
        sa.and_(_first_response_decided(now), sa.not_(_first_response_met())),
        sa.and_(_resolution_decided(now), sa.not_(_resolution_met())),
    )


# --- results ------------------------------------------------------------------------------------


def _counts_by_dimension(selects, dimensions, periods: list[Period]) -> dict[str, list[dict[str, int]]]:
    """Run the UNION ALL of `(dimension, value, period bucket, count)` selects and fold it into
    `{dimension: [{value: count} for each period]}`; rows outside every period are dropped."""
    result = {dimension: [{} for _ in periods] for dimension in dimensions}
    for dimension, value, bucket, n in db.session.execute(sa.union_all(*selects)):
        if bucket is not None:
            result[dimension][bucket][value] = int(n)
    return result


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Summary:
    """One period's headline numbers for the cases created in it."""

    cases: int = 0
    resolved: int = 0
    rated: int = 0
    satisfied: int = 0
    escalated_level_1: int = 0
    escalated_level_2: int = 0
    reopened: int = 0
    first_response_targets: int = 0
    first_response_met: int = 0
    resolution_targets: int = 0
    resolution_met: int = 0

    @property
    def escalated(self) -> int:
        return self.escalated_level_1 + self.escalated_level_2

    @property
    def first_response_compliance(self) -> float | None:
        return _percent(self.first_response_met, self.first_response_targets)

    @property
    def resolution_compliance(self) -> float | None:
        return _percent(self.resolution_met, self.resolution_targets)

    @property
    def csat(self) -> float | None:
        return _percent(self.satisfied, self.rated)

    @property
    def response_rate(self) -> float | None:
        return _percent(self.rated, self.resolved)


@dataclass(frozen=True)
class Durations:
    count: int = 0
    median: int | None = None  # seconds
    p90: int | None = None


@dataclass
class Breakdown:
    """Counts per value of each dimension (kind, category, severity), one dict per period."""

    by: dict[str, list[dict[str, int]]] = field(default_factory=dict)


# --- queries ------------------------------------------------------------------------------------


def fetch_summaries(scope: Scope, periods: list[Period], *, now: datetime) -> list[Summary]:
    """Headline counts per period (one statement)."""
    rateable = Case.status.in_(RESOLVED_STATUSES)
    bucket = _bucket(Case.created_at, periods).label("bucket")
    query = (
        sa.select(
            bucket,
            sa.func.count(Case.id),
            _count_if(rateable),
            _count_if(sa.and_(rateable, Case.satisfaction_score.is_not(None))),
            _count_if(sa.and_(rateable, Case.satisfaction_score >= 4)),
            _count_if(Case.escalation_level == 1),
            _count_if(Case.escalation_level == 2),
            _count_if(Case.reopen_count > 0),
            _count_if(_first_response_decided(now)),
            _count_if(sa.and_(_first_response_decided(now), _first_response_met())),
            _count_if(_resolution_decided(now)),
            _count_if(sa.and_(_resolution_decided(now), _resolution_met())),
        )
        .where(_within(Case.created_at, periods), scope.condition(Case.account_id))
        .group_by(bucket)
    )
    results = [Summary() for _ in periods]
    for row in db.session.execute(query):
        if row[0] is not None:
            results[row[0]] = Summary(*(int(value) for value in row[1:]))
    return results


BREAKDOWN_DIMENSIONS = ("kind", "category", "severity")


def fetch_breakdown(scope: Scope, periods: list[Period]) -> dict[str, list[dict[str, int]]]:
    """Cases per kind, category and severity per period: {dimension: [{value: count} per period]} (one statement)."""
    selects = []
    for dimension in BREAKDOWN_DIMENSIONS:
        column = getattr(Case, dimension)
        bucket = _bucket(Case.created_at, periods)
        selects.append(
            sa.select(
                _text(dimension).label("dimension"),
                sa.cast(column, sa.String(32)).label("value"),
                bucket.label("bucket"),
                sa.func.count(Case.id).label("n"),
            )
            .where(_within(Case.created_at, periods), scope.condition(Case.account_id))
            .group_by(column, bucket)
        )
    return _counts_by_dimension(selects, BREAKDOWN_DIMENSIONS, periods)


DURATION_METRICS = ("first_response", "resolution")


def fetch_durations(scope: Scope, periods: list[Period]) -> dict[str, list[Durations]]:
    """Median and p90 (nearest-rank) time to first response and to resolution, per period (one statement)."""
    sources = {
        "first_response": (Case.first_response_at, Case.first_response_at.is_not(None)),
        "resolution": (Case.resolved_at, Case.resolved_at.is_not(None)),
    }
    selects = [
        sa.select(
            _text(metric).label("metric"),
            _bucket(Case.created_at, periods).label("bucket"),
            whole_seconds(at, Case.created_at).label("seconds"),
        ).where(_within(Case.created_at, periods), scope.condition(Case.account_id), present)
        for metric, (at, present) in sources.items()
    ]
    values = sa.union_all(*selects).subquery("durations")
    group = (values.c.metric, values.c.bucket)
    ranked = sa.select(
        values.c.metric,
        values.c.bucket,
        values.c.seconds,
        sa.func.row_number().over(partition_by=group, order_by=values.c.seconds).label("rn"),
        sa.func.count().over(partition_by=group).label("n"),
    ).subquery("ranked")

    def nearest_rank(percent: int):
        position = (ranked.c.n * percent + 99) // 100
        return sa.func.min(sa.case((ranked.c.rn == position, ranked.c.seconds)))

    query = sa.select(
        ranked.c.metric, ranked.c.bucket, sa.func.max(ranked.c.n), nearest_rank(50), nearest_rank(90)
    ).group_by(ranked.c.metric, ranked.c.bucket)
    result = {metric: [Durations() for _ in periods] for metric in DURATION_METRICS}
    for metric, bucket, n, median, p90 in db.session.execute(query):
        if bucket is not None:
            result[metric][bucket] = Durations(int(n), int(median), int(p90))
    return result


ESCALATION_DIMENSIONS = ("level", "reason", "outcome")


def fetch_escalations(scope: Scope, periods: list[Period]) -> dict[str, list[dict[str, int]]]:
    """Escalations opened in each period, by level, reason and decision outcome ("undecided" when
    none yet): {dimension: [{value: count} per period]} (one statement)."""
    columns = {
        "level": sa.cast(Escalation.level, sa.String(32)),
        "reason": sa.cast(Escalation.reason, sa.String(32)),
        "outcome": sa.func.coalesce(sa.cast(Escalation.decision_outcome, sa.String(32)), _text("undecided")),
    }
    selects = []
    for dimension, column in columns.items():
        bucket = _bucket(Escalation.created_at, periods)
        selects.append(
            sa.select(_text(dimension), column, bucket, sa.func.count(Escalation.id))
            .join(Case, Case.id == Escalation.case_id)
            .where(_within(Escalation.created_at, periods), scope.condition(Case.account_id))
            .group_by(column, bucket)
        )
    return _counts_by_dimension(selects, ESCALATION_DIMENSIONS, periods)


def fetch_suggestion_counts(scope: Scope, periods: list[Period]) -> list[dict[str, int]]:
    """Feedback-kind cases per category, per period (one statement)."""
    bucket = _bucket(Case.created_at, periods)
    query = (
        sa.select(Case.category, bucket, sa.func.count(Case.id))
        .where(_within(Case.created_at, periods), scope.condition(Case.account_id), Case.kind == Kind.FEEDBACK)
        .group_by(Case.category, bucket)
    )
    result = [{} for _ in periods]
    for category, index, n in db.session.execute(query):
        if index is not None:
            result[index][category] = int(n)
    return result


@dataclass(frozen=True)
class SuggestionSample:
    category: str
    case_id: int
    subject: str


def fetch_suggestion_samples(scope: Scope, period: Period, *, per_category: int = SUGGESTION_SAMPLE):
    """The newest `per_category` feedback subjects of each category in `period` (one statement)."""
    numbered = (
        sa.select(
            Case.category,
            Case.id,
            Case.subject,
            sa.func.row_number()
            .over(partition_by=Case.category, order_by=(Case.created_at.desc(), Case.id.desc()))
            .label("rn"),
        )
        .where(
            Case.created_at >= period.start,
            Case.created_at < period.end,
            scope.condition(Case.account_id),
            Case.kind == Kind.FEEDBACK,
        )
        .subquery()
    )
    query = (
        sa.select(numbered.c.category, numbered.c.id, numbered.c.subject)
        .where(numbered.c.rn <= per_category)
        .order_by(numbered.c.category, numbered.c.rn)
    )
    return [SuggestionSample(*row) for row in db.session.execute(query)]


@dataclass(frozen=True)
class AccountFacts:
    """What the health score reads about one account: its last 90 days up to `as_of`, and the 90 before."""

    account_id: int
    name: str
    tier: str
    annual_contract_value: float
    renewal_date: object
    manager_name: str | None
    cases: int
    previous_cases: int
    breached: int
    escalated: int
    resolved: int
    rated: int
    satisfied: int
    reopened: int


def fetch_account_facts(scope: Scope, *, as_of: datetime) -> list[AccountFacts]:
    """The health facts of every account in `scope` (one grouped statement, never one per account).

    Churned accounts are left out: there is no health left to watch.
    """
    recent_start, previous_start = as_of - HEALTH_WINDOW, as_of - 2 * HEALTH_WINDOW
    recent = Case.created_at >= recent_start
    rateable = sa.and_(recent, Case.status.in_(RESOLVED_STATUSES))
    manager = aliased(User)
    query = (
        sa.select(
            Account.id,
            Account.name,
            Account.tier,
            Account.annual_contract_value,
            Account.renewal_date,
            manager.name,
            _count_if(recent),
            _count_if(Case.created_at < recent_start),
            _count_if(sa.and_(recent, _breached(as_of))),
            _count_if(sa.and_(recent, Case.escalation_level > 0)),
            _count_if(rateable),
            _count_if(sa.and_(rateable, Case.satisfaction_score.is_not(None))),
            _count_if(sa.and_(rateable, Case.satisfaction_score >= 4)),
            _count_if(sa.and_(recent, Case.reopen_count > 0)),
        )
        .select_from(Account)
        .outerjoin(manager, manager.id == Account.manager_id)
        .outerjoin(
            Case,
            sa.and_(Case.account_id == Account.id, Case.created_at >= previous_start, Case.created_at < as_of),
        )
        .where(scope.condition(Account.id), Account.status != AccountStatus.CHURNED)
        .group_by(
            Account.id,
            Account.name,
            Account.tier,
            Account.annual_contract_value,
            Account.renewal_date,
            manager.name,
        )
        .order_by(Account.name)
    )
    return [
        AccountFacts(
            row[0],
            row[1],
            str(row[2].value if hasattr(row[2], "value") else row[2]),
            float(row[3] or 0),
            row[4],
            row[5],
            *(int(value) for value in row[6:]),
        )
        for row in db.session.execute(query)
    ]


def _age_bucket(column, now: datetime):
    whens = []
    for index, (_, limit) in enumerate(AGE_BUCKETS):
        if limit is not None:
            whens.append((column > now - limit, _int(index)))
    return sa.case(*whens, else_=_int(len(AGE_BUCKETS) - 1))


def fetch_open_cases_by_severity_and_age(scope: Scope, *, now: datetime) -> dict[tuple[str, int], int]:
    """Open cases counted by (severity, age bucket index into AGE_BUCKETS) (one statement)."""
    age = _age_bucket(Case.created_at, now)
    query = (
        sa.select(sa.cast(Case.severity, sa.String(32)), age, sa.func.count(Case.id))
        .where(Case.status.in_(OPEN_STATUSES), scope.condition(Case.account_id))
        .group_by(Case.severity, age)
    )
    return {(severity, int(index)): int(n) for severity, index, n in db.session.execute(query)}


@dataclass(frozen=True)
class OpenEscalations:
    level: int
    count: int
    unacknowledged: int
    oldest: datetime | None


def fetch_open_escalations(scope: Scope) -> list[OpenEscalations]:
    """Open escalations per level: how many, how many unacknowledged, the oldest (one statement)."""
    query = (
        sa.select(
            Escalation.level,
            sa.func.count(Escalation.id),
            _count_if(Escalation.acknowledged_at.is_(None)),
            sa.func.min(Escalation.created_at),
        )
        .join(Case, Case.id == Escalation.case_id)
        .where(Escalation.closed_at.is_(None), scope.condition(Case.account_id))
        .group_by(Escalation.level)
        .order_by(Escalation.level)
    )
    rows = []
    for level, n, unacknowledged, oldest in db.session.execute(query):
        rows.append(OpenEscalations(int(level), int(n), int(unacknowledged), _aware(oldest)))
    return rows


def _aware(value):
    """MIN() over a UTCDateTime column comes back untyped on SQLite (a string): make it an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)
