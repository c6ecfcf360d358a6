"""Escalations through the services: triggers on case events, customer requests, staff raising, and
the team lead's and executive's steps, with their refusals (nothing changes when refused)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from portal.cases import services as cases
from portal.cases import timeline
from portal.escalations import services
from portal.extensions import db
from portal.models import (
    Case,
    CaseEvent,
    Escalation,
    EscalationState,
    EventType,
    NotificationKind,
    OutboxMessage,
    Role,
    Severity,
    Status,
    Tier,
)
from portal.models.base import utcnow
from portal.services import ConflictError, ServiceError
from tests import factories


def escalations_of(case) -> list[Escalation]:
    return list(db.session.scalars(sa.select(Escalation).where(Escalation.case_id == case.id).order_by(Escalation.id)))


def events_of(case, type) -> list[CaseEvent]:
    query = sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.type == type).order_by(CaseEvent.id)
    return list(db.session.scalars(query))


def mail_to(user, kind) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.recipient_id == user.id, OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def submit(customer, severity):
    return cases.submit_case(
        requester=customer, kind="issue", category="bug", severity=severity, subject="Down", description="All down"
    )


@pytest.fixture
def strategic(world):
    account = factories.make_account(name="Strategic Co", tier=Tier.STRATEGIC, manager=world.manager_a)
    world.sol = factories.make_user(role=Role.CUSTOMER, account=account, name="Sol Strategic")
    return world


# --- triggers -----------------------------------------------------------------------------------


def test_critical_case_is_escalated_to_level_1_at_submission_and_team_leads_are_told(world):
    case = submit(world.alice, "critical")
    (escalation,) = escalations_of(case)
    assert (escalation.level, escalation.reason, escalation.state) == (
        1,
        "critical_severity",
        EscalationState.UNACKNOWLEDGED,
    )
    assert case.escalation_level == 1
    (event,) = events_of(case, EventType.ESCALATED)
    assert event.data["level"] == 1 and event.actor is None and not event.is_internal
    assert mail_to(world.lead, NotificationKind.ESCALATION)
    assert mail_to(world.alice, NotificationKind.CASE_ESCALATED)


@pytest.mark.parametrize("severity", ["low", "medium", "high"])
def test_other_severities_are_not_escalated_at_submission(world, severity):
    case = submit(world.alice, severity)
    assert escalations_of(case) == [] and case.escalation_level == 0


def test_second_reopen_escalates_to_level_1_once(world):
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED)
    cases.reopen_case(case, actor=world.alice, reason="Still broken")
    assert escalations_of(case) == []
    case.status = Status.RESOLVED
    cases.reply_to_case(case, author=world.alice, body="Broken again")  # a customer reply reopens it too
    assert case.reopen_count == 2
    (escalation,) = escalations_of(case)
    assert (escalation.level, escalation.reason) == (1, "reopened")
    case.status = Status.RESOLVED
    cases.reopen_case(case, actor=world.alice, reason="Third time")
    assert len(escalations_of(case)) == 1
    assert len(events_of(case, EventType.ESCALATED)) == 1


# --- the customer's request ---------------------------------------------------------------------


def test_customer_request_escalates_to_level_1_with_the_reason_on_the_timeline(world):
    case = factories.make_case(requester=world.alice)
    escalation = services.request_escalation(case, customer=world.alice, reason="  We lose sales every hour  ")
    assert (escalation.level, escalation.reason, escalation.raised_by) == (1, "customer_request", world.alice)
    (event,) = events_of(case, EventType.ESCALATED)
    assert event.body == "We lose sales every hour" and not event.is_internal
    assert case.escalation_requested_at is not None


def test_strategic_customer_request_goes_to_level_2_and_executives_are_told(strategic):
    case = factories.make_case(requester=strategic.sol)
    escalation = services.request_escalation(case, customer=strategic.sol, reason="Board meeting tomorrow")
    assert escalation.level == 2
    assert mail_to(strategic.executive, NotificationKind.ESCALATION)


def test_second_request_within_24_hours_is_refused_even_after_the_escalation_closed(world):
    case = factories.make_case(requester=world.alice)
    escalation = services.request_escalation(case, customer=world.alice, reason="Urgent")
    services.close_escalation(escalation, actor=world.lead, expected_version=escalation.version)
    with pytest.raises(ServiceError, match="already asked to escalate this case in the last 24 hours"):
        services.request_escalation(case, customer=world.anna, reason="Again")
    assert len(escalations_of(case)) == 1


def test_request_is_allowed_again_after_24_hours(world):
    case = factories.make_case(requester=world.alice)
    escalation = services.request_escalation(
        case, customer=world.alice, reason="Urgent", now=utcnow() - timedelta(hours=25)
    )
    services.close_escalation(escalation, actor=world.lead, expected_version=escalation.version)
    assert services.request_escalation(case, customer=world.alice, reason="Still urgent").level == 1
    assert len(escalations_of(case)) == 2


@pytest.mark.parametrize(("status", "message"), [(Status.CLOSED, "is closed"), (Status.RESOLVED, "is resolved")])
def test_customer_cannot_escalate_a_closed_or_resolved_case(world, status, message):
    case = factories.make_case(requester=world.alice, status=status)
    with pytest.raises(ConflictError, match=message):
        services.request_escalation(case, customer=world.alice, reason="Please")
    assert escalations_of(case) == [] and case.escalation_requested_at is None


def test_customer_request_needs_a_reason(world):
    case = factories.make_case(requester=world.alice)
    with pytest.raises(ServiceError) as refused:
        services.request_escalation(case, customer=world.alice, reason="   ")
    assert refused.value.field == "reason"
    assert escalations_of(case) == []


def test_customer_cannot_escalate_another_accounts_case(world):
    case = factories.make_case(requester=world.bob)
    with pytest.raises(Forbidden):
        services.request_escalation(case, customer=world.alice, reason="Mine now")


def test_request_on_a_case_already_at_that_level_is_refused_clearly(world):
    case = submit(world.alice, "critical")
    with pytest.raises(ServiceError, match="already escalated to level 1"):
        services.request_escalation(case, customer=world.alice, reason="Hurry")
    assert case.escalation_requested_at is None


# --- staff raising ------------------------------------------------------------------------------


def test_account_manager_raises_level_1_with_an_internal_reason(world):
    case = factories.make_case(requester=world.alice)
    services.raise_escalation(
        case, actor=world.manager_a, level=1, reason="Renewal at risk", expected_version=case.version
    )
    assert case.escalation_level == 1
    (note,) = events_of(case, EventType.INTERNAL_NOTE)
    assert "Renewal at risk" in note.body and note.is_internal
    assert "Renewal at risk" not in str([e.body for e in timeline.public_events(case)])


def test_account_manager_may_not_raise_to_level_2_and_nobody_raises_without_a_reason(world):
    case = factories.make_case(requester=world.alice)
    with pytest.raises(ServiceError) as refused:
        services.raise_escalation(case, actor=world.manager_a, level=2, reason="Now", expected_version=case.version)
    assert refused.value.field == "level"
    with pytest.raises(ServiceError) as refused:
        services.raise_escalation(case, actor=world.lead, level=1, reason="", expected_version=case.version)
    assert refused.value.field == "reason"
    assert escalations_of(case) == []


def test_raising_a_closed_case_or_on_a_stale_version_is_a_conflict(world):
    closed = factories.make_case(requester=world.alice, status=Status.CLOSED)
    with pytest.raises(ConflictError):
        services.raise_escalation(closed, actor=world.lead, level=1, reason="x", expected_version=closed.version)
    case = factories.make_case(requester=world.alice)
    with pytest.raises(ConflictError):
        services.raise_escalation(case, actor=world.lead, level=1, reason="x", expected_version=case.version - 1)
    assert escalations_of(case) == escalations_of(closed) == []


def test_executives_and_other_managers_may_not_raise(world):
    case = factories.make_case(requester=world.alice)
    for person in (world.executive, world.admin, world.alice):
        with pytest.raises(Forbidden):
            services.raise_escalation(case, actor=person, level=1, reason="x", expected_version=case.version)


# --- handling -----------------------------------------------------------------------------------


@pytest.fixture
def level1(world):
    case = factories.make_case(requester=world.alice)
    return services.raise_escalation(
        case, actor=world.manager_a, level=1, reason="Angry", expected_version=case.version
    )


def test_team_lead_acknowledges_owns_and_raises_to_level_2_then_executive_decides_and_closes(world, level1):
    case = level1.case
    services.acknowledge_escalation(level1, actor=world.lead, expected_version=level1.version)
    assert level1.state == EscalationState.ACKNOWLEDGED and level1.acknowledged_by == world.lead
    services.take_ownership(level1, actor=world.lead, expected_version=level1.version)
    assert level1.state == EscalationState.OWNED
    services.raise_to_level_2(level1, actor=world.lead, reason="Needs a credit", expected_version=level1.version)
    assert (level1.level, case.escalation_level, level1.state) == (2, 2, EscalationState.UNACKNOWLEDGED)
    assert level1.owner_id is None

    with pytest.raises(ServiceError, match="Record a decision"):
        services.close_escalation(level1, actor=world.executive, expected_version=level1.version)
    services.decide_escalation(
        level1,
        actor=world.executive,
        outcome="credit_offered",
        decision="One month free",
        expected_version=level1.version,
    )
    assert level1.state == EscalationState.DECIDED and level1.acknowledged_by == world.executive
    services.close_escalation(level1, actor=world.executive, expected_version=level1.version)
    assert level1.state == EscalationState.CLOSED and case.escalation_level == 0

    public = [(e.type, e.body) for e in timeline.public_events(case)]
    assert (EventType.ESCALATION_ACKNOWLEDGED, None) in public
    assert (EventType.ESCALATION_CLOSED, None) in public
    assert all(t not in (EventType.ESCALATION_DECIDED, EventType.ESCALATION_OWNED) for t, _ in public)
    assert "One month free" not in str(public)
    (decided,) = events_of(case, EventType.ESCALATION_DECIDED)
    assert decided.is_internal and decided.data["outcome"] == "credit_offered"


def test_only_executives_acknowledge_level_2(world, level1):
    services.raise_to_level_2(level1, actor=world.lead, reason="Big", expected_version=level1.version)
    for person in (world.lead, world.manager_a):
        with pytest.raises(Forbidden):
            services.acknowledge_escalation(level1, actor=person, expected_version=level1.version)
    assert level1.acknowledged_at is None


def test_executives_do_not_acknowledge_level_1(world, level1):
    with pytest.raises(Forbidden):
        services.acknowledge_escalation(level1, actor=world.executive, expected_version=level1.version)


def test_acknowledging_twice_or_a_stale_version_is_a_conflict(world, level1):
    seen = level1.version
    services.acknowledge_escalation(level1, actor=world.lead, expected_version=seen)
    with pytest.raises(ConflictError, match="changed while you were looking"):
        services.acknowledge_escalation(level1, actor=world.lead, expected_version=seen)
    with pytest.raises(ConflictError, match="already acknowledged"):
        services.acknowledge_escalation(level1, actor=world.lead, expected_version=level1.version)


def test_deciding_needs_an_outcome_and_a_decision(world, level1):
    services.raise_to_level_2(level1, actor=world.lead, reason="Big", expected_version=level1.version)
    for outcome, decision, field in (
        (None, "Text", "outcome"),
        ("bogus", "Text", "outcome"),
        ("no_action", " ", "decision"),
    ):
        with pytest.raises(ServiceError) as refused:
            services.decide_escalation(
                level1, actor=world.executive, outcome=outcome, decision=decision, expected_version=level1.version
            )
        assert refused.value.field == field
    assert level1.decided_at is None


def test_executive_de_escalates_to_level_1_for_the_team_leads(world, level1):
    services.raise_to_level_2(level1, actor=world.lead, reason="Big", expected_version=level1.version)
    services.de_escalate(level1, actor=world.executive, reason="Lead can handle", expected_version=level1.version)
    assert (level1.level, level1.case.escalation_level, level1.state) == (1, 1, EscalationState.UNACKNOWLEDGED)
    (event,) = events_of(level1.case, EventType.DE_ESCALATED)
    assert event.is_internal
    services.acknowledge_escalation(level1, actor=world.lead, expected_version=level1.version)


def test_closed_escalation_takes_no_more_steps(world, level1):
    services.close_escalation(level1, actor=world.lead, expected_version=level1.version)
    with pytest.raises(ConflictError, match="closed"):
        services.acknowledge_escalation(level1, actor=world.lead, expected_version=level1.version)


def test_a_rule_never_lowers_an_escalation(world, level1):
    services.raise_to_level_2(level1, actor=world.lead, reason="Big", expected_version=level1.version)
    case = level1.case
    case.reopen_count = 2
    assert services.escalate_on_reopen(case) is None
    assert case.escalation_level == 2 and level1.level == 2


def test_the_open_escalation_is_unique_per_case_in_the_database(world, level1):
    db.session.add(Escalation(case_id=level1.case_id, level=1, reason="manual", urgency=1))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_insert_on_conflict_opens_nothing_when_one_is_open(world, level1):
    from portal.escalations.rules import Proposal

    assert services._insert_open(level1.case, Proposal(1, "manual"), actor=None, now=utcnow()) is None
    assert db.session.scalar(sa.select(sa.func.count(Escalation.id)).where(Escalation.case_id == level1.case_id)) == 1


def test_severity_facts_of_the_board_rows(world):
    case = factories.make_case(requester=world.alice, severity=Severity.HIGH)
    assert db.session.get(Case, case.id).escalation_level == 0
