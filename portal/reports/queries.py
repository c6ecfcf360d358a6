"""Report queries: aggregate SQL only. No query here loads cases into Python; each returns a few
rows per group, and each is one statement whatever the data size.

Definitions (the same on SQLite and PostgreSQL):
- A period is [start, end). "Cases of a period" are the cases *created* in it; their times, SLA
  results, escalation levels and ratings are reported as they stand now (the cohort view).
- Several periods are answered by one statement: one SELECT per period, each tagged with its
  period's index (0, 1, …, in the order given) and limited to the period's range of the created_at
  index, joined with UNION ALL. (A CASE expression putting rows in buckets would read the same rows
  but leave PostgreSQL unable to estimate the groups, so it sorts instead of hashing.)
- Durations are whole seconds (rounded): on PostgreSQL `EXTRACT(EPOCH FROM later - earlier)`, on
  SQLite `(julianday(later) - julianday(earlier)) * 86400` (see `seconds_between`).
- Percentiles are nearest-rank: of n values sorted ascending, the p-th percentile is the value at
  1-based position ceil(p/100 · n). The median is p = 50 (for even n, the lower middle value).
  PostgreSQL's `percentile_disc` is exactly that; SQLite has no ordered-set aggregates, so there it
  is computed with ROW_NUMBER() and COUNT() OVER each group and the integer ceiling (n·p + 99) // 100.
  The tests hold both to the same Python computation.
- SLA: of the cases with a target whose result is known — met (answered / resolved by the due
  time) or missed (answered late, or still unanswered after the due time) — the share met. Cases
  still within their target are not counted yet.
- CSAT: of the resolved or closed cases that were rated, the share rated 4 or 5; the response
  rate is rated / resolved-or-closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
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


def _in_period(column, period: Period):
    return sa.and_(column >= period.start, column < period.end)


def _count_if(condition):
    """COUNT(*) FILTER (WHERE condition): both databases evaluate it cheaper than SUM(CASE …)."""
    return sa.func.count().filter(condition)


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


def tune_for_reports() -> None:
    """Settings for the rest of this transaction's report queries, on PostgreSQL.

    - No JIT: these queries are costed high enough to be compiled, but they evaluate many small
      aggregates over a few hundred thousand rows, and compiling them took longer (0.4 s for the
      dashboard's trend at 1,000,000 cases) than running them (0.33 s).
    - More memory for sorts: the percentiles sort every duration of a period; in memory, not on disk.
    SET LOCAL ends with the transaction, so nothing else the connection does is affected.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))


# --- results ------------------------------------------------------------------------------------


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


# --- queries ------------------------------------------------------------------------------------


BREAKDOWN_DIMENSIONS = ("kind", "category", "severity")


@dataclass
class PeriodCounts:
    """What one scan of a period's cases tells: the headline numbers, the cases per kind, category
    and severity, and the feedback (suggestions) per category."""

    summary: Summary = field(default_factory=Summary)
    by: dict[str, dict[str, int]] = field(default_factory=lambda: {d: {} for d in BREAKDOWN_DIMENSIONS})
    suggestions: dict[str, int] = field(default_factory=dict)


def fetch_case_counts(scope: Scope, periods: list[Period], *, now: datetime) -> list[PeriodCounts]:
    """Headline counts, breakdowns and suggestion counts per period (one statement, one pass over
    each period's cases). Each period's cases are grouped by (kind, category, severity) — a few
    dozen groups — and the groups are added up here."""
    rateable = Case.status.in_(RESOLVED_STATUSES)
    kind = sa.cast(Case.kind, sa.String(32))
    severity = sa.cast(Case.severity, sa.String(32))
    selects = [
        sa.select(
            _int(index),
            kind,
            Case.category,
            severity,
            sa.func.count(),
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
        .where(_in_period(Case.created_at, period), scope.condition(Case.account_id))
        .group_by(kind, Case.category, severity)
        for index, period in enumerate(periods)
    ]
    results = [PeriodCounts() for _ in periods]
    for index, kind_value, category, severity_value, *numbers in db.session.execute(sa.union_all(*selects)):
        counts = results[index]
        group = Summary(*(int(n) for n in numbers))
        counts.summary = Summary(*(a + b for a, b in zip(_fields(counts.summary), _fields(group), strict=True)))
        for dimension, value in (("kind", kind_value), ("category", category), ("severity", severity_value)):
            counts.by[dimension][value] = counts.by[dimension].get(value, 0) + group.cases
        if kind_value == Kind.FEEDBACK:
            counts.suggestions[category] = counts.suggestions.get(category, 0) + group.cases
    return results


def _fields(summary: Summary) -> tuple[int, ...]:
    return tuple(getattr(summary, f.name) for f in fields(Summary))


DURATION_METRICS = ("first_response", "resolution")


def fetch_durations(scope: Scope, periods: list[Period]) -> dict[str, list[Durations]]:
    """Median and p90 (nearest-rank) time to first response and to resolution, per period (one statement)."""
    sources = {
        "first_response": Case.first_response_at,
        "resolution": Case.resolved_at,
    }
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    selects = []
    for metric, at in sources.items():
        for index, period in enumerate(periods):
            seconds = whole_seconds(at, Case.created_at)
            where = (_in_period(Case.created_at, period), scope.condition(Case.account_id), at.is_not(None))
            if postgresql:
                selects.append(
                    sa.select(
                        _text(metric),
                        _int(index),
                        sa.func.count(),
                        sa.func.percentile_disc(0.5).within_group(seconds),
                        sa.func.percentile_disc(0.9).within_group(seconds),
                    ).where(*where)
                )
            else:
                selects.append(
                    sa.select(
                        _text(metric).label("metric"), _int(index).label("bucket"), seconds.label("seconds")
                    ).where(*where)
                )
    query = sa.union_all(*selects) if postgresql else _nearest_ranks(sa.union_all(*selects).subquery("durations"))
    result = {metric: [Durations() for _ in periods] for metric in DURATION_METRICS}
    for metric, index, n, median, p90 in db.session.execute(query):
        if n:
            result[metric][index] = Durations(int(n), int(median), int(p90))
    return result


def _nearest_ranks(values) -> sa.Select:
    """(metric, bucket, n, median, p90) from (metric, bucket, seconds) rows, with window functions."""
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

    return sa.select(
        ranked.c.metric, ranked.c.bucket, sa.func.max(ranked.c.n), nearest_rank(50), nearest_rank(90)
    ).group_by(ranked.c.metric, ranked.c.bucket)


ESCALATION_DIMENSIONS = ("level", "reason", "outcome")


def fetch_escalations(scope: Scope, periods: list[Period]) -> dict[str, list[dict[str, int]]]:
    """Escalations opened in each period, by level, reason and decision outcome ("undecided" when
    none yet): {dimension: [{value: count} per period]} (one statement)."""
    level = sa.cast(Escalation.level, sa.String(32))
    reason = sa.cast(Escalation.reason, sa.String(32))
    outcome = sa.func.coalesce(sa.cast(Escalation.decision_outcome, sa.String(32)), _text("undecided"))
    selects = [
        sa.select(_int(index), level, reason, outcome, sa.func.count())
        .join(Case, Case.id == Escalation.case_id)
        .where(_in_period(Escalation.created_at, period), scope.condition(Case.account_id))
        .group_by(level, reason, outcome)
        for index, period in enumerate(periods)
    ]
    result = {dimension: [{} for _ in periods] for dimension in ESCALATION_DIMENSIONS}
    for index, *values, n in db.session.execute(sa.union_all(*selects)):
        for dimension, value in zip(ESCALATION_DIMENSIONS, values, strict=True):
            result[dimension][index][value] = result[dimension][index].get(value, 0) + int(n)
    return result


@dataclass(frozen=True)
class SuggestionSample:
    category: str
    case_id: int
    subject: str


def fetch_suggestion_samples(
    scope: Scope, period: Period, categories, *, per_category: int = SUGGESTION_SAMPLE
) -> list[SuggestionSample]:
    """The newest `per_category` feedback subjects of each of `categories` in `period` (one
    statement: per category, the newest rows of the created_at index, stopping at the limit)."""
    if not categories:
        return []
    newest = [
        sa.select(Case.category, Case.id, Case.subject, Case.created_at)
        .where(
            _in_period(Case.created_at, period),
            scope.condition(Case.account_id),
            Case.kind == Kind.FEEDBACK,
            Case.category == category,
        )
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(per_category)
        .subquery()
        for category in sorted(categories)
    ]
    rows = db.session.execute(sa.union_all(*(sa.select(sample) for sample in newest))).all()
    rows.sort(key=lambda row: (row.category, -_aware(row.created_at).timestamp(), -row.id))
    return [SuggestionSample(row.category, row.id, row.subject) for row in rows]


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
