"""Report queries against a straightforward Python computation on generated data with known answers.

The data is random but seeded, with fixed timestamps in whole seconds, so every number is exact
and the same on SQLite and PostgreSQL. Each test compares one query with the obvious Python
over the cases the test built (never by reading them back from the database).
"""

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import CATEGORIES, Escalation, EscalationReason, Kind, Severity, Status
from portal.models.escalations import DecisionOutcome
from portal.reports import queries
from portal.reports.periods import quarter_period
from portal.reports.scope import Scope
from tests import factories

NOW = datetime(2025, 5, 20, 12, 0, tzinfo=UTC)
Q1, Q4 = quarter_period(2025, 1), quarter_period(2024, 4)
PERIODS = [Q1, Q4]
COMPANY = Scope("company", "Whole company")


def nearest_rank(values, percent):
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * percent / 100) - 1] if ordered else None


def random_case(rng, requester, start, end):
    created = start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))
    status = rng.choice(list(Status))
    fields = {
        "kind": rng.choice(list(Kind)),
        "category": rng.choice(list(CATEGORIES)),
        "severity": rng.choice(list(Severity)),
        "status": status,
        "created_at": created,
        "escalation_level": rng.choice([0, 0, 0, 1, 2]),
        "reopen_count": rng.choice([0, 0, 0, 1, 2]),
    }
    if rng.random() < 0.85:
        fields["first_response_due_at"] = created + timedelta(seconds=rng.randrange(600, 3 * 86400))
        fields["resolution_due_at"] = created + timedelta(seconds=rng.randrange(86400, 20 * 86400))
    if status != Status.NEW and rng.random() < 0.9:
        fields["first_response_at"] = created + timedelta(seconds=rng.randrange(60, 4 * 86400))
    if status in (Status.RESOLVED, Status.CLOSED):
        fields["resolved_at"] = created + timedelta(seconds=rng.randrange(3600, 25 * 86400))
        if rng.random() < 0.6:
            fields["satisfaction_score"] = rng.randint(1, 5)
    return factories.make_case(requester=requester, subject=f"Case {rng.random():.6f}", **fields)


@pytest.fixture
def generated(world):
    """~120 cases over Q4 2024 and Q1 2025 in accounts A and B, a few outside both periods."""
    rng = random.Random(20250520)
    cases = []
    for requester in (world.alice, world.bob):
        for period in PERIODS:
            cases += [random_case(rng, requester, period.start, period.end) for _ in range(30)]
        # Outside the periods: must never be counted.
        cases.append(random_case(rng, requester, Q1.end, Q1.end + timedelta(days=10)))
        cases.append(random_case(rng, requester, Q4.start - timedelta(days=10), Q4.start))
    # Boundaries: the first instant of a period is in it; its end is not.
    cases.append(factories.make_case(requester=world.alice, created_at=Q1.start))
    cases.append(factories.make_case(requester=world.alice, created_at=Q1.end))
    return cases


def in_period(case, period):
    return period.start <= case.created_at < period.end


def scoped(cases, scope_accounts):
    return [case for case in cases if scope_accounts is None or case.account_id in scope_accounts]


def scopes(world):
    return [
        (COMPANY, None),
        (Scope("manager", "A", manager_id=world.manager_a.id), {world.account_a.id}),
        (Scope("account", "B", account_id=world.account_b.id), {world.account_b.id}),
    ]


def expected_summary(cases):
    def decided(due, done):
        return due is not None and (done is not None or due < NOW)

    def met(due, done):
        return done is not None and done <= due

    rateable = [case for case in cases if case.status in (Status.RESOLVED, Status.CLOSED)]
    return queries.Summary(
        cases=len(cases),
        resolved=len(rateable),
        rated=sum(case.satisfaction_score is not None for case in rateable),
        satisfied=sum((case.satisfaction_score or 0) >= 4 for case in rateable),
        escalated_level_1=sum(case.escalation_level == 1 for case in cases),
        escalated_level_2=sum(case.escalation_level == 2 for case in cases),
        reopened=sum(case.reopen_count > 0 for case in cases),
        first_response_targets=sum(decided(c.first_response_due_at, c.first_response_at) for c in cases),
        first_response_met=sum(
            decided(c.first_response_due_at, c.first_response_at) and met(c.first_response_due_at, c.first_response_at)
            for c in cases
        ),
        resolution_targets=sum(decided(c.resolution_due_at, c.resolved_at) for c in cases),
        resolution_met=sum(
            decided(c.resolution_due_at, c.resolved_at) and met(c.resolution_due_at, c.resolved_at) for c in cases
        ),
    )


def test_summaries_match_python(world, generated):
    for scope, accounts in scopes(world):
        result = queries.fetch_case_counts(scope, PERIODS, now=NOW)
        for period, counts in zip(PERIODS, result, strict=True):
            cases = [case for case in scoped(generated, accounts) if in_period(case, period)]
            assert counts.summary == expected_summary(cases), (scope.kind, period.label)
    assert result[0].summary.cases > 20  # the data is not trivially empty


def test_breakdown_by_kind_category_and_severity_matches_python(world, generated):
    for scope, accounts in scopes(world):
        result = queries.fetch_case_counts(scope, PERIODS, now=NOW)
        for index, period in enumerate(PERIODS):
            cases = [case for case in scoped(generated, accounts) if in_period(case, period)]
            for dimension in queries.BREAKDOWN_DIMENSIONS:
                expected = Counter(str(getattr(case, dimension)) for case in cases)
                assert result[index].by[dimension] == dict(expected), (scope.kind, period.label, dimension)


def test_median_and_p90_are_nearest_rank_and_match_python(world, generated):
    for scope, accounts in scopes(world):
        result = queries.fetch_durations(scope, PERIODS)
        for index, period in enumerate(PERIODS):
            cases = [case for case in scoped(generated, accounts) if in_period(case, period)]
            for metric, attribute in (("first_response", "first_response_at"), ("resolution", "resolved_at")):
                seconds = [
                    round((getattr(case, attribute) - case.created_at).total_seconds())
                    for case in cases
                    if getattr(case, attribute) is not None
                ]
                expected = queries.Durations(len(seconds), nearest_rank(seconds, 50), nearest_rank(seconds, 90))
                assert result[metric][index] == expected, (scope.kind, period.label, metric)


@pytest.mark.parametrize(
    ("hours", "median", "p90"),
    [
        ([5], 5, 5),
        ([1, 2], 1, 2),  # even count: the lower middle value
        ([4, 1, 3, 2], 2, 4),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5, 9),
        ([10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11], 6, 10),
    ],
)
def test_nearest_rank_percentiles_on_known_values(world, hours, median, p90):
    start = Q1.start + timedelta(days=3)
    for hour in hours:
        factories.make_case(
            requester=world.alice, created_at=start, first_response_at=start + timedelta(hours=hour), status=Status.OPEN
        )
    [durations, _] = queries.fetch_durations(COMPANY, PERIODS)["first_response"]
    assert durations == queries.Durations(len(hours), median * 3600, p90 * 3600)


def test_durations_of_an_empty_period_are_empty(world):
    assert queries.fetch_durations(COMPANY, PERIODS)["resolution"] == [queries.Durations(), queries.Durations()]


def test_escalations_by_level_reason_and_outcome_match_python(world, generated):
    rng = random.Random(7)
    escalations = []
    for case in generated[:60]:
        created = case.created_at + timedelta(hours=rng.randrange(1, 200))
        escalation = Escalation(
            case=case,
            level=rng.choice([1, 2]),
            reason=rng.choice(list(EscalationReason)),
            created_at=created,
            raised_at=created,
            decision_outcome=rng.choice([None, *DecisionOutcome]),
            closed_at=created + timedelta(days=1) if rng.random() < 0.5 else None,
        )
        db.session.add(escalation)
        escalations.append(escalation)
    db.session.flush()
    for scope, accounts in scopes(world):
        result = queries.fetch_escalations(scope, PERIODS)
        for index, period in enumerate(PERIODS):
            mine = [
                e
                for e in escalations
                if period.start <= e.created_at < period.end and (accounts is None or e.case.account_id in accounts)
            ]
            assert result["level"][index] == dict(Counter(str(e.level) for e in mine))
            assert result["reason"][index] == dict(Counter(str(e.reason) for e in mine))
            assert result["outcome"][index] == dict(Counter(str(e.decision_outcome or "undecided") for e in mine))


def test_suggestion_counts_and_samples_match_python(world, generated):
    for scope, accounts in scopes(world):
        counts = queries.fetch_case_counts(scope, PERIODS, now=NOW)
        for index, period in enumerate(PERIODS):
            feedback = [c for c in scoped(generated, accounts) if in_period(c, period) and c.kind == Kind.FEEDBACK]
            assert counts[index].suggestions == dict(Counter(case.category for case in feedback))
        samples = queries.fetch_suggestion_samples(scope, Q1, counts[0].suggestions, per_category=2)
        feedback = [c for c in scoped(generated, accounts) if in_period(c, Q1) and c.kind == Kind.FEEDBACK]
        expected = []
        for category in sorted({case.category for case in feedback}):
            newest = sorted(
                (c for c in feedback if c.category == category), key=lambda c: (c.created_at, c.id), reverse=True
            )
            expected += [(category, case.id, case.subject) for case in newest[:2]]
        assert [(s.category, s.case_id, s.subject) for s in samples] == expected


def test_account_facts_match_python(world, generated):
    as_of = Q1.end
    recent_start, previous_start = as_of - queries.HEALTH_WINDOW, as_of - 2 * queries.HEALTH_WINDOW
    facts = {row.account_id: row for row in queries.fetch_account_facts(COMPANY, as_of=as_of)}
    assert set(facts) == {world.account_a.id, world.account_b.id}
    for account in (world.account_a, world.account_b):
        mine = [case for case in generated if case.account_id == account.id]
        recent = [case for case in mine if recent_start <= case.created_at < as_of]
        previous = [case for case in mine if previous_start <= case.created_at < recent_start]

        def breached(case):
            def missed(due, done):
                return due is not None and ((done is not None and done > due) or (done is None and due < as_of))

            return missed(case.first_response_due_at, case.first_response_at) or missed(
                case.resolution_due_at, case.resolved_at
            )

        rateable = [case for case in recent if case.status in (Status.RESOLVED, Status.CLOSED)]
        row = facts[account.id]
        assert (row.name, row.manager_name) == (account.name, account.manager.name)
        assert (row.cases, row.previous_cases) == (len(recent), len(previous))
        assert row.breached == sum(breached(case) for case in recent)
        assert row.escalated == sum(case.escalation_level > 0 for case in recent)
        assert row.reopened == sum(case.reopen_count > 0 for case in recent)
        assert (row.resolved, row.rated, row.satisfied) == (
            len(rateable),
            sum(case.satisfaction_score is not None for case in rateable),
            sum((case.satisfaction_score or 0) >= 4 for case in rateable),
        )


def test_account_facts_include_quiet_accounts_and_respect_the_scope(world, generated):
    quiet = factories.make_account(name="Quiet Co", manager=world.manager_a)
    rows = queries.fetch_account_facts(Scope("manager", "A", manager_id=world.manager_a.id), as_of=NOW)
    assert {row.account_id for row in rows} == {world.account_a.id, quiet.id}
    assert next(row for row in rows if row.account_id == quiet.id).cases == 0


def test_open_cases_by_severity_and_age_match_python(world, generated):
    now = NOW
    result = queries.fetch_open_cases_by_severity_and_age(COMPANY, now=now)

    def age_bucket(created):
        for index, (_, limit) in enumerate(queries.AGE_BUCKETS):
            if limit is not None and created > now - limit:
                return index
        return len(queries.AGE_BUCKETS) - 1

    expected = Counter(
        (str(case.severity), age_bucket(case.created_at))
        for case in generated
        if case.status in (Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER)
    )
    assert result == dict(expected)


def test_open_escalations_per_level(world):
    case = factories.make_case(requester=world.alice)
    other = factories.make_case(requester=world.bob)
    old = NOW - timedelta(days=3)
    db.session.add_all(
        [
            Escalation(case=case, level=1, reason=EscalationReason.MANUAL, created_at=old, raised_at=old),
            Escalation(
                case=other,
                level=1,
                reason=EscalationReason.MANUAL,
                created_at=NOW,
                raised_at=NOW,
                acknowledged_at=NOW,
            ),
        ]
    )
    db.session.flush()
    assert queries.fetch_open_escalations(COMPANY) == [queries.OpenEscalations(1, 2, 1, old)]
    only_b = queries.fetch_open_escalations(Scope("account", "B", account_id=world.account_b.id))
    assert only_b == [queries.OpenEscalations(1, 1, 0, NOW)]


def test_reports_run_their_queries_without_jit_and_with_memory_to_sort(world):
    """Compiling the report queries took longer than running them; their sorts should not spill."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL settings: SQLite has neither JIT nor work_mem")
    from portal.reports import services

    services.build_dashboard(world.executive, COMPANY, now=NOW)
    assert db.session.scalar(sa.text("SHOW jit")) == "off"
    assert db.session.scalar(sa.text("SHOW work_mem")) == "64MB"
