"""The SLA sweep (`flask sla sweep`): breaches marked and escalated once, the critical-acknowledgement
window, due-soon mail, auto-close; idempotent when run twice, and race-free when two sweeps run at
once on PostgreSQL (committed data, two threads, cleaned up afterwards)."""

import os
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from portal.escalations import services as escalations
from portal.extensions import db
from portal.models import (
    Account,
    Case,
    CaseEvent,
    Escalation,
    EventType,
    NotificationKind,
    OutboxMessage,
    Role,
    Severity,
    Status,
    Tier,
    User,
)
from portal.models.base import utcnow
from portal.sla.sweep import run_sweep
from tests import factories

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def breached_case(requester, *, minutes_late=10, first_response=True, severity=Severity.MEDIUM, **fields):
    """An open case whose current due passed `minutes_late` wall-clock minutes ago."""
    now = utcnow()
    due = now - timedelta(minutes=minutes_late)
    values = {"first_response_due_at": due, "resolution_due_at": now + timedelta(days=3)}
    if not first_response:
        values = {"first_response_due_at": due - timedelta(hours=1), "first_response_at": due - timedelta(hours=2)}
        values["resolution_due_at"] = due
    return factories.make_case(requester=requester, severity=severity, **{**values, **fields})


def count(model, *conditions) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions))


def snapshot(case_ids) -> dict:
    return {
        "events": count(CaseEvent, CaseEvent.case_id.in_(case_ids)),
        "escalations": [
            (e.case_id, e.level, e.reason)
            for e in db.session.scalars(
                sa.select(Escalation).where(Escalation.case_id.in_(case_ids)).order_by(Escalation.id)
            )
        ],
        "mail": count(OutboxMessage),
    }


def sweep(**kwargs):
    return run_sweep(now=kwargs.pop("now", utcnow()), **kwargs)


def test_first_response_breach_is_marked_recorded_mailed_and_escalated_once(world):
    case = breached_case(world.alice, assignee=world.manager_a)
    report = sweep()
    assert (report.breaches, report.escalations) == (1, 1)
    assert case.first_response_breached_at is not None
    (event,) = db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.type == EventType.SLA_BREACHED)
    )
    assert event.is_internal and event.data["target"] == "first_response"
    (escalation,) = escalations.fetch_case_escalations(case)
    assert (escalation.level, escalation.reason) == (1, "sla_breach")
    assert (
        count(
            OutboxMessage,
            OutboxMessage.kind == NotificationKind.BREACHED,
            OutboxMessage.recipient_id == world.manager_a.id,
        )
        == 1
    )


def test_running_the_sweep_twice_changes_nothing_the_second_time(world):
    ids = [breached_case(world.alice).id, breached_case(world.bob, minutes_late=3000).id]
    critical = submit_critical(world, minutes_ago=90)
    ids.append(critical.id)
    sweep()
    before = snapshot(ids)
    report = sweep()
    assert (report.breaches, report.escalations, report.due_soon, report.auto_closed) == (0, 0, 0, 0)
    assert snapshot(ids) == before


def test_strategic_resolution_breach_goes_to_level_2(world):
    account = factories.make_account(tier=Tier.STRATEGIC)
    customer = factories.make_user(role=Role.CUSTOMER, account=account)
    case = breached_case(customer, first_response=False)
    sweep()
    assert case.resolution_breached_at is not None
    (escalation,) = escalations.fetch_case_escalations(case)
    assert escalation.level == 2


def test_overrun_by_more_than_half_the_target_goes_to_level_2_once(world):
    # Premium × medium: 4 business hours to first response. Overdue by a week of business time.
    case = breached_case(world.alice, minutes_late=7 * 24 * 60)
    sweep()
    assert case.severe_breach_at is not None
    (escalation,) = escalations.fetch_case_escalations(case)
    assert escalation.level == 2
    assert sweep().escalations == 0


def test_a_paused_or_resolved_clock_is_not_breached(world):
    paused = breached_case(world.alice, status=Status.WAITING_ON_CUSTOMER, sla_paused_at=utcnow() - timedelta(days=1))
    resolved = breached_case(world.alice, status=Status.RESOLVED)
    sweep()
    assert paused.first_response_breached_at is None and resolved.first_response_breached_at is None
    assert escalations.fetch_case_escalations(paused) == escalations.fetch_case_escalations(resolved) == []


def test_breach_after_a_closed_escalation_is_not_raised_again(world):
    case = breached_case(world.alice)
    sweep()
    (escalation,) = escalations.fetch_case_escalations(case)
    escalations.close_escalation(escalation, actor=world.lead, expected_version=escalation.version)
    sweep()
    assert len(escalations.fetch_case_escalations(case)) == 1


def submit_critical(world, *, minutes_ago):
    case = factories.make_case(
        requester=world.alice, severity=Severity.CRITICAL, resolution_due_at=utcnow() + timedelta(days=2)
    )
    escalation = escalations.escalate_on_submission(case, now=utcnow() - timedelta(minutes=minutes_ago))
    assert escalation.level == 1
    return case


def test_unacknowledged_critical_escalation_goes_to_level_2_after_the_window(world):
    late = submit_critical(world, minutes_ago=31)
    in_time = submit_critical(world, minutes_ago=29)
    report = sweep(ack_minutes=30)
    assert report.escalations == 1
    assert (late.escalation_level, in_time.escalation_level) == (2, 1)
    (escalation,) = escalations.fetch_case_escalations(late)
    assert (escalation.level, escalation.reason) == (2, "critical_severity")


def test_acknowledged_critical_escalation_stays_at_level_1(world):
    case = submit_critical(world, minutes_ago=120)
    (escalation,) = escalations.fetch_case_escalations(case)
    escalations.acknowledge_escalation(escalation, actor=world.lead, expected_version=escalation.version)
    sweep()
    assert case.escalation_level == 1


def test_due_soon_cases_are_mailed_once(world):
    case = factories.make_case(
        requester=world.alice,
        assignee=world.manager_a,
        first_response_due_at=utcnow() + timedelta(minutes=20),
        resolution_due_at=utcnow() + timedelta(days=2),
    )
    assert sweep().due_soon == 1
    assert sweep().due_soon == 0
    assert count(OutboxMessage, OutboxMessage.kind == NotificationKind.DUE_SOON) == 1
    assert case.first_response_breached_at is None


def test_quiet_resolved_cases_are_closed(world):
    old = utcnow() - timedelta(days=10)
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED, created_at=old)
    assert sweep(auto_close_days=7).auto_closed == 1
    assert case.status == Status.CLOSED


def test_sla_sweep_command_runs_one_pass_and_commits(app, world):
    breached_case(world.alice)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["sla", "sweep"])
    assert result.exit_code == 0, result.output
    assert "breaches: 1" in result.output and "escalations: 1" in result.output


# --- two sweeps at once, PostgreSQL --------------------------------------------------------------


@pytest.fixture
def committed_breaches(app):
    """Really committed: an account with a manager, a customer, and six breached cases (two of them
    overrun by days, one critical with a late unacknowledged escalation). Deleted afterwards."""
    with app.app_context():
        original = db.session
        db.session = scoped_session(sessionmaker(bind=db.engine))
        created = SimpleNamespace(case_ids=[], user_ids=[], account_ids=[])
        try:
            manager = factories.make_user(role=Role.ACCOUNT_MANAGER, name="Sweep Manager")
            lead = factories.make_user(role=Role.TEAM_LEAD, name="Sweep Lead")
            account = factories.make_account(manager=manager, tier=Tier.STRATEGIC)
            customer = factories.make_user(role=Role.CUSTOMER, account=account)
            created.account_ids.append(account.id)
            created.user_ids += [customer.id, manager.id, lead.id]
            for late in (5, 30, 90, 6000, 9000):
                created.case_ids.append(breached_case(customer, minutes_late=late, first_response=late % 2 == 0).id)
            critical = factories.make_case(
                requester=customer, severity=Severity.CRITICAL, resolution_due_at=utcnow() + timedelta(days=1)
            )
            escalations.escalate_on_submission(critical, now=utcnow() - timedelta(hours=2))
            created.case_ids.append(critical.id)
            db.session.commit()
            yield created
        finally:
            db.session.rollback()
            ids = created.case_ids
            db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.recipient_id.in_(created.user_ids)))
            db.session.execute(sa.delete(Escalation).where(Escalation.case_id.in_(ids)))
            db.session.execute(sa.delete(CaseEvent).where(CaseEvent.case_id.in_(ids)))
            db.session.execute(sa.delete(Case).where(Case.id.in_(ids)))
            db.session.execute(sa.update(Account).where(Account.id.in_(created.account_ids)).values(manager_id=None))
            for user_id in created.user_ids:
                db.session.execute(sa.delete(User).where(User.id == user_id))
            db.session.execute(sa.delete(Account).where(Account.id.in_(created.account_ids)))
            db.session.commit()
            db.session.remove()
            db.session = original


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs two truly concurrent sweeps with row locks: set TEST_DATABASE_URL to a PostgreSQL database "
    "(SQLite has no SELECT … FOR UPDATE SKIP LOCKED and serialises writers)",
)
def test_two_sweeps_at_once_raise_every_escalation_and_record_every_breach_exactly_once(app, committed_breaches):
    ids = committed_breaches.case_ids
    barrier = threading.Barrier(2, timeout=10)
    reports, errors = [None, None], []

    def one_sweep(index):
        with app.app_context():
            session = Session(bind=db.engine)
            db.session.registry.set(session)
            try:
                barrier.wait()
                reports[index] = run_sweep(now=utcnow(), commit=session.commit, rollback=session.rollback)
            except Exception as error:  # reported by the test rather than lost in the thread
                errors.append(error)
                session.rollback()
            finally:
                session.close()
                db.session.registry.clear()

    threads = [threading.Thread(target=one_sweep, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a sweep hung"
    assert errors == []

    with app.app_context():
        db.session.rollback()
        breaches = list(
            db.session.execute(
                sa.select(CaseEvent.case_id, CaseEvent.data["target"].as_string()).where(
                    CaseEvent.case_id.in_(ids), CaseEvent.type == EventType.SLA_BREACHED
                )
            )
        )
        assert len(breaches) == len(set(breaches)) == 5  # once per breached case and target
        escalated = list(db.session.scalars(sa.select(Escalation).where(Escalation.case_id.in_(ids))))
        assert sorted(e.case_id for e in escalated) == sorted(ids)  # one escalation per case
        levels = {e.case_id: e.level for e in escalated}
        assert levels[ids[0]] == 2  # a strategic account's resolution breach
        assert levels[ids[-1]] == 2  # the critical case nobody acknowledged in time
        raised = [
            (case_id, data["level"])
            for case_id, data in db.session.execute(
                sa.select(CaseEvent.case_id, CaseEvent.data).where(
                    CaseEvent.case_id.in_(ids), CaseEvent.type == EventType.ESCALATED
                )
            )
        ]
        assert len(raised) == len(set(raised))  # each case raised to each level at most once
        assert {case_id for case_id, _ in raised} == set(ids)
        assert sum(r.breaches for r in reports) == 5
        # A third sweep afterwards finds nothing left to do.
        again = run_sweep(now=utcnow(), commit=db.session.commit)
        assert (again.breaches, again.escalations) == (0, 0)
