"""★ Escalation rules (DESIGN.md §7): which level a case should be at, and why. Pure: no database.

- critical severity at submission → level 1 at once; level 2 when that level-1 escalation is not
  acknowledged within the window (ESCALATION_ACK_MINUTES);
- a first-response or resolution breach → level 1; a resolution breach on a strategic account, or a
  target overrun by more than half its length → level 2;
- the customer asks (with a reason, at most once per case per 24 h) → level 1, level 2 for strategic;
- reopened twice → level 1; staff raise manually with a reason (account managers level 1 only).

Rules only ever raise: `next_step` turns a proposal into nothing when the case is already at that
level or higher, so applying a rule twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CRITICAL_SEVERITY = "critical_severity"
SLA_BREACH = "sla_breach"
CUSTOMER_REQUEST = "customer_request"
MANUAL = "manual"
REOPENED = "reopened"

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"

REOPENS_BEFORE_ESCALATION = 2
CUSTOMER_REQUEST_INTERVAL = timedelta(hours=24)


@dataclass(frozen=True)
class Proposal:
    """A level a case should reach, and the reason (one of the EscalationReason values)."""

    level: int
    reason: str


def next_step(current_level: int, proposal: Proposal | None) -> Proposal | None:
    """The proposal if it raises the case above `current_level`, else None (never down, no repeats)."""
    if proposal is None or proposal.level <= current_level:
        return None
    return proposal


def on_submission(severity: str) -> Proposal | None:
    """A critical case is escalated to the team leads the moment it is submitted."""
    return Proposal(1, CRITICAL_SEVERITY) if str(severity) == "critical" else None


def on_reopen(reopen_count: int) -> Proposal | None:
    """The second reopen (and any later one) escalates to level 1."""
    return Proposal(1, REOPENED) if reopen_count >= REOPENS_BEFORE_ESCALATION else None


def on_breach(*, target: str, tier: str, overdue_minutes: float, target_minutes: int) -> Proposal:
    """A breached target: level 2 for a strategic account's resolution, or when the target is
    overrun by more than half its own length (business minutes); level 1 otherwise."""
    if target == RESOLUTION and str(tier) == "strategic":
        return Proposal(2, SLA_BREACH)
    if is_severe_overrun(overdue_minutes=overdue_minutes, target_minutes=target_minutes):
        return Proposal(2, SLA_BREACH)
    return Proposal(1, SLA_BREACH)


def is_severe_overrun(*, overdue_minutes: float, target_minutes: int) -> bool:
    """More than half the target past its due (strictly: exactly half is not yet severe)."""
    return target_minutes > 0 and overdue_minutes > target_minutes / 2


def on_customer_request(tier: str) -> Proposal:
    """The customer asks: level 1, or straight to the executives for a strategic account."""
    return Proposal(2 if str(tier) == "strategic" else 1, CUSTOMER_REQUEST)


def customer_may_ask_again(last_request: datetime | None, now: datetime) -> bool:
    """At most one customer request per case per 24 hours."""
    return last_request is None or now - last_request >= CUSTOMER_REQUEST_INTERVAL


def on_manual(*, level: int, role: str) -> Proposal | None:
    """Staff raise by hand: team leads to level 1 or 2, account managers to level 1 only. None: not allowed."""
    if level not in (1, 2):
        return None
    if str(role) == "team_lead" or (str(role) == "account_manager" and level == 1):
        return Proposal(level, MANUAL)
    return None


def on_unacknowledged(
    *, level: int, severity: str, acknowledged: bool, raised_at: datetime, now: datetime, window: timedelta
) -> Proposal | None:
    """A critical case's level-1 escalation nobody acknowledged within `window` goes to level 2."""
    if level != 1 or acknowledged or str(severity) != "critical":
        return None
    return Proposal(2, CRITICAL_SEVERITY) if now - raised_at > window else None


def is_overdue_for_acknowledgement(
    *, level: int, acknowledged: bool, raised_at: datetime, now: datetime, window: timedelta
) -> bool:
    """The board's flag: a level-2 escalation still unacknowledged after `window`."""
    return level == 2 and not acknowledged and now - raised_at > window
