"""★ Account health: a 0–100 score from an account's last 90 days, with the reasons (pure; no database).

The score starts at 100 and loses points for each sign of trouble; each deduction is a reason
shown beside the score. Below AT_RISK_BELOW the account is at risk.

- Case volume trend: at least 3 more cases than the previous 90 days and at least 50% more:
  −15 (rising volume means something is going wrong for them).
- SLA breaches: −60 × the share of cases that missed a target, at most −30 (any breach costs ≥ 1).
- Escalations: −8 per escalated case, at most −24.
- Satisfaction (once 3 or more resolved cases were rated): CSAT under 80% costs half the gap,
  at most −25 (CSAT 40% → −20).
- Reopen rate (once 3 or more cases were resolved): over 10% of cases reopened costs 50 × the
  rate, at most −15.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AT_RISK_BELOW = 60
MIN_RATINGS = 3
MIN_RESOLVED = 3
CSAT_TARGET = 80.0
REOPEN_TOLERANCE = 0.10


@dataclass(frozen=True)
class HealthInputs:
    cases: int  # created in the last 90 days
    previous_cases: int  # created in the 90 days before those
    breached: int  # of `cases`, missed a first-response or resolution target
    escalated: int  # of `cases`, escalated to any level
    resolved: int  # of `cases`, resolved or closed
    rated: int  # of `resolved`, rated by the customer
    satisfied: int  # of `rated`, rated 4 or 5
    reopened: int  # of `cases`, reopened at least once


@dataclass(frozen=True)
class Reason:
    text: str
    points: int  # deducted


@dataclass(frozen=True)
class Health:
    score: int
    reasons: list[Reason] = field(default_factory=list)

    @property
    def at_risk(self) -> bool:
        return self.score < AT_RISK_BELOW


def score_health(facts: HealthInputs) -> Health:
    """The health of one account from its facts; see the module docstring for the rules."""
    reasons: list[Reason] = []
    if facts.cases == 0 and facts.previous_cases == 0:
        return Health(100, [])

    growth = facts.cases - facts.previous_cases
    if growth >= 3 and facts.cases >= 1.5 * facts.previous_cases:
        text = (
            f"Case volume up from {facts.previous_cases} to {facts.cases} on the previous 90 days"
            if facts.previous_cases
            else f"{facts.cases} cases after none in the previous 90 days"
        )
        reasons.append(Reason(text, 15))

    if facts.breached and facts.cases:
        share = facts.breached / facts.cases
        points = max(1, min(30, round(60 * share)))
        reasons.append(Reason(f"{facts.breached} of {facts.cases} cases missed an SLA target", points))

    if facts.escalated:
        reasons.append(
            Reason(
                f"{facts.escalated} escalated case{'s' if facts.escalated != 1 else ''}", min(24, 8 * facts.escalated)
            )
        )

    if facts.rated >= MIN_RATINGS:
        csat = 100.0 * facts.satisfied / facts.rated
        if csat < CSAT_TARGET:
            points = min(25, round((CSAT_TARGET - csat) / 2))
            reasons.append(Reason(f"Satisfaction {csat:.0f}% ({facts.satisfied} of {facts.rated} ratings 4–5)", points))

    if facts.resolved >= MIN_RESOLVED and facts.cases:
        rate = facts.reopened / facts.cases
        if rate > REOPEN_TOLERANCE:
            reasons.append(Reason(f"{facts.reopened} of {facts.cases} cases reopened", min(15, round(50 * rate))))

    score = max(0, min(100, 100 - sum(reason.points for reason in reasons)))
    return Health(score, sorted(reasons, key=lambda reason: -reason.points))
