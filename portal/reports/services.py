"""Reports and the dashboard, assembled from the aggregate queries: a fixed number of statements
per page, whatever the data size. Plain functions with an explicit user and time; no request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from portal.auth.policy import require_reports
from portal.models import CATEGORIES, Severity, User
from portal.reports import queries
from portal.reports.health import Health, HealthInputs, score_health
from portal.reports.periods import Period, last_quarters, quarter_of
from portal.reports.scope import Scope

TREND_QUARTERS = 8
DASHBOARD_ACCOUNTS = 10
DIGEST_EXAMPLES = 3

# --- suggestions digest: similar subjects grouped --------------------------------------------------

_STOPWORD_TEXT = """
a an and are as at be but by can could for from have how i in is it its me my no not of on or our please
should so than that the their there this to us was we what when where which who why will with would you
your add allow let new want need like able
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[a-z0-9]+")


def subject_words(subject: str) -> frozenset[str]:
    """The normalised words of a subject: lower case, no stop words or 1–2 letter words, a plural 's' dropped."""
    words = set()
    for word in _WORD.findall(subject.lower()):
        if len(word) < 3 or word in _STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return frozenset(words)


def are_similar(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two subjects say the same thing when they share at least half of their words (Jaccard ≥ 0.5)
    or at least two words."""
    if not a or not b:
        return False
    shared = len(a & b)
    return shared >= 2 or shared / len(a | b) >= 0.5


@dataclass
class SuggestionGroup:
    title: str
    count: int
    examples: list[tuple[int, str]]  # (case id, subject), newest first


@dataclass
class DigestCategory:
    category: str
    label: str
    count: int
    previous_count: int
    groups: list[SuggestionGroup]
    sampled: int  # how many of `count` subjects were grouped (the newest ones)


def group_suggestions(samples: list[tuple[int, str]]) -> list[SuggestionGroup]:
    """Group subjects (newest first) greedily: each joins the first group whose first subject it
    resembles. Bounded input: at most `queries.SUGGESTION_SAMPLE` subjects per category."""
    groups: list[tuple[frozenset[str], SuggestionGroup]] = []
    for case_id, subject in samples:
        words = subject_words(subject)
        for key, group in groups:
            if are_similar(words, key):
                group.count += 1
                if len(group.examples) < DIGEST_EXAMPLES:
                    group.examples.append((case_id, subject))
                break
        else:
            groups.append((words, SuggestionGroup(subject, 1, [(case_id, subject)])))
    return sorted((group for _, group in groups), key=lambda group: -group.count)


# --- account health ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountHealth:
    facts: queries.AccountFacts
    health: Health

    @property
    def value_at_risk(self) -> float:
        return self.facts.annual_contract_value if self.health.at_risk else 0.0


def fetch_account_health(scope: Scope, *, as_of: datetime) -> list[AccountHealth]:
    """Every account in scope with its health, least healthy first (one query for all accounts)."""
    rows = []
    for facts in queries.fetch_account_facts(scope, as_of=as_of):
        inputs = HealthInputs(
            cases=facts.cases,
            previous_cases=facts.previous_cases,
            breached=facts.breached,
            escalated=facts.escalated,
            resolved=facts.resolved,
            rated=facts.rated,
            satisfied=facts.satisfied,
            reopened=facts.reopened,
        )
        rows.append(AccountHealth(facts, score_health(inputs)))
    return sorted(rows, key=lambda row: (row.health.score, -row.facts.annual_contract_value, row.facts.name))


# --- the report ----------------------------------------------------------------------------------


class AtRiskAccount(NamedTuple):
    """An account at risk as the report lists it."""

    name: str
    manager_name: str | None
    tier: str
    score: int
    annual_contract_value: float
    renewal_date: date | None
    reasons: tuple[str, ...]  # biggest deduction first

    @classmethod
    def of(cls, row: AccountHealth) -> AtRiskAccount:
        facts = row.facts
        reasons = tuple(reason.text for reason in row.health.reasons)
        return cls(
            facts.name, facts.manager_name, facts.tier, row.health.score, facts.annual_contract_value,
            facts.renewal_date, reasons,
        )  # fmt: skip


@dataclass
class Report:
    scope: Scope
    now: datetime  # when the figures were taken
    period: Period
    previous: Period
    summary: queries.Summary
    previous_summary: queries.Summary
    breakdown: dict[str, list[dict[str, int]]]
    durations: dict[str, list[queries.Durations]]
    escalations: dict[str, list[dict[str, int]]]
    digest: list[DigestCategory]
    # Only the accounts at risk, least healthy first, as plain values: a large company has hundreds
    # at risk, and the cached report is loaded on every look at it.
    at_risk: list[AtRiskAccount] = field(default_factory=list)

    @property
    def value_at_risk(self) -> float:
        return sum(account.annual_contract_value for account in self.at_risk)


def build_report(user: User, scope: Scope, period: Period, *, now: datetime) -> Report:
    """The report for `period` against the previous period, limited to `scope` (already checked
    against `user` by `scope.resolve_scope`). Account health is as of the period's end (or now)."""
    require_reports(user)
    queries.tune_for_reports()
    periods = [period, period.previous()]
    counts = queries.fetch_case_counts(scope, periods, now=now)
    suggestions, previous_suggestions = counts[0].suggestions, counts[1].suggestions
    samples: dict[str, list[tuple[int, str]]] = {}
    for sample in queries.fetch_suggestion_samples(scope, period, suggestions):
        samples.setdefault(sample.category, []).append((sample.case_id, sample.subject))
    digest = [
        DigestCategory(
            category,
            CATEGORIES.get(category, category),
            count,
            previous_suggestions.get(category, 0),
            group_suggestions(samples.get(category, [])),
            len(samples.get(category, [])),
        )
        for category, count in sorted(suggestions.items(), key=lambda item: (-item[1], item[0]))
    ]
    return Report(
        scope=scope,
        now=now,
        period=period,
        previous=periods[1],
        summary=counts[0].summary,
        previous_summary=counts[1].summary,
        breakdown={dimension: [c.by[dimension] for c in counts] for dimension in queries.BREAKDOWN_DIMENSIONS},
        durations=queries.fetch_durations(scope, periods),
        escalations=queries.fetch_escalations(scope, periods),
        digest=digest,
        at_risk=[
            AtRiskAccount.of(row)
            for row in fetch_account_health(scope, as_of=min(period.end, now))
            if row.health.at_risk
        ],
    )


# --- the dashboard -------------------------------------------------------------------------------


@dataclass
class Dashboard:
    scope: Scope
    now: datetime
    open_cases: dict[tuple[str, int], int]
    this_quarter: Period
    sla: list[queries.Summary]  # [last quarter, this quarter]
    escalations: list[queries.OpenEscalations]
    quarters: list[Period]
    trend: list[queries.Summary]
    # Of the accounts at risk, only how many and their contract value: a large company has hundreds,
    # and the dashboard (and its cached copy) should not carry each one to show a total.
    at_risk_count: int
    value_at_risk: float
    most_at_risk: list[AccountHealth]  # the DASHBOARD_ACCOUNTS least healthy, at risk or not

    @property
    def open_total(self) -> int:
        return sum(self.open_cases.values())

    def open_count(self, severity: str, age: int) -> int:
        return self.open_cases.get((severity, age), 0)

    @property
    def severities(self) -> list[str]:
        return [severity.value for severity in reversed(Severity)]


def build_dashboard(user: User, scope: Scope, *, now: datetime) -> Dashboard:
    require_reports(user)
    queries.tune_for_reports()
    this_quarter = quarter_of(now)
    quarters = last_quarters(now, TREND_QUARTERS)
    trend = [counts.summary for counts in queries.fetch_case_counts(scope, quarters, now=now)]
    accounts = fetch_account_health(scope, as_of=now)
    return Dashboard(
        scope=scope,
        now=now,
        open_cases=queries.fetch_open_cases_by_severity_and_age(scope, now=now),
        this_quarter=this_quarter,
        sla=trend[-2:],
        escalations=queries.fetch_open_escalations(scope),
        quarters=quarters,
        trend=trend,
        at_risk_count=sum(1 for row in accounts if row.health.at_risk),
        value_at_risk=sum(row.value_at_risk for row in accounts),
        most_at_risk=accounts[:DASHBOARD_ACCOUNTS],
    )
