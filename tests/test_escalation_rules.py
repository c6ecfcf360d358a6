"""The escalation rules (DESIGN.md §7), pure: no database, no app."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.escalations import rules
from portal.escalations.rules import Proposal

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=30)


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("critical", Proposal(1, "critical_severity")), ("high", None), ("medium", None), ("low", None)],
)
def test_only_critical_severity_escalates_at_submission(severity, expected):
    assert rules.on_submission(severity) == expected


@pytest.mark.parametrize(
    ("reopens", "expected"), [(0, None), (1, None), (2, Proposal(1, "reopened")), (3, Proposal(1, "reopened"))]
)
def test_reopened_twice_escalates_to_level_1(reopens, expected):
    assert rules.on_reopen(reopens) == expected


@pytest.mark.parametrize(
    ("target", "tier", "overdue", "target_minutes", "level"),
    [
        ("first_response", "standard", 10, 120, 1),
        ("resolution", "premium", 10, 960, 1),
        ("resolution", "strategic", 1, 240, 2),  # strategic resolution breach: executives
        ("first_response", "strategic", 1, 30, 1),  # a strategic first-response breach is level 1
        ("first_response", "standard", 60, 120, 1),  # exactly half: not yet severe
        ("first_response", "standard", 61, 120, 2),  # more than half its target
        ("resolution", "standard", 481, 960, 2),
    ],
)
def test_breach_levels(target, tier, overdue, target_minutes, level):
    assert rules.on_breach(
        target=target, tier=tier, overdue_minutes=overdue, target_minutes=target_minutes
    ) == Proposal(level, "sla_breach")


@pytest.mark.parametrize(("tier", "level"), [("standard", 1), ("premium", 1), ("strategic", 2)])
def test_customer_request_is_level_1_or_2_for_strategic(tier, level):
    assert rules.on_customer_request(tier) == Proposal(level, "customer_request")


def test_customer_may_ask_once_per_24_hours():
    assert rules.customer_may_ask_again(None, NOW)
    assert not rules.customer_may_ask_again(NOW - timedelta(hours=23, minutes=59), NOW)
    assert rules.customer_may_ask_again(NOW - timedelta(hours=24), NOW)


@pytest.mark.parametrize(
    ("role", "level", "expected"),
    [
        ("team_lead", 1, Proposal(1, "manual")),
        ("team_lead", 2, Proposal(2, "manual")),
        ("account_manager", 1, Proposal(1, "manual")),
        ("account_manager", 2, None),
        ("executive", 1, None),
        ("customer", 1, None),
        ("team_lead", 3, None),
    ],
)
def test_manual_raise_by_role(role, level, expected):
    assert rules.on_manual(level=level, role=role) == expected


def test_rules_never_lower_a_case_and_repeating_a_level_is_a_no_op():
    assert rules.next_step(0, Proposal(1, "manual")) == Proposal(1, "manual")
    assert rules.next_step(1, Proposal(2, "sla_breach")) == Proposal(2, "sla_breach")
    assert rules.next_step(1, Proposal(1, "sla_breach")) is None
    assert rules.next_step(2, Proposal(1, "reopened")) is None
    assert rules.next_step(2, None) is None


def test_unacknowledged_critical_level_1_goes_to_level_2_after_the_window():
    def check(**overrides):
        facts = {
            "level": 1,
            "severity": "critical",
            "acknowledged": False,
            "raised_at": NOW - WINDOW - timedelta(seconds=1),
            "now": NOW,
            "window": WINDOW,
        }
        return rules.on_unacknowledged(**{**facts, **overrides})

    assert check() == Proposal(2, "critical_severity")
    assert check(raised_at=NOW - WINDOW) is None  # exactly at the window: still in time
    assert check(acknowledged=True) is None
    assert check(severity="high") is None
    assert check(level=2) is None


def test_board_flags_only_unacknowledged_level_2_older_than_the_window():
    old = NOW - timedelta(hours=1)
    assert rules.is_overdue_for_acknowledgement(level=2, acknowledged=False, raised_at=old, now=NOW, window=WINDOW)
    assert not rules.is_overdue_for_acknowledgement(level=2, acknowledged=True, raised_at=old, now=NOW, window=WINDOW)
    assert not rules.is_overdue_for_acknowledgement(level=1, acknowledged=False, raised_at=old, now=NOW, window=WINDOW)
    assert not rules.is_overdue_for_acknowledgement(
        level=2, acknowledged=False, raised_at=NOW - timedelta(minutes=5), now=NOW, window=WINDOW
    )
