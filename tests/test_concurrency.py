"""Two people acting on one case at once: one succeeds, the other gets a conflict, never a lost update.

The threaded tests run two real sessions against PostgreSQL at the same moment, so they need
TEST_DATABASE_URL to point at PostgreSQL (SQLite lets only one writer in at a time, so the race
cannot happen there). Their data is committed for real, outside the per-test transaction, and
deleted again afterwards. The single-threaded tests run on both databases.
"""

import os
import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from portal.cases import services
from portal.extensions import db
from portal.models import Account, Case, CaseEvent, EventType, OutboxMessage, Role, Status, User
from portal.services import ConflictError
from tests import factories

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs two truly concurrent writers: set TEST_DATABASE_URL to a PostgreSQL database "
    "(SQLite serialises writers, so the race cannot happen there)",
)


def bump_version_behind_the_sessions_back(case) -> None:
    """What another process's committed change looks like to a session that already loaded `case`:
    the row's version moves on while the loaded object keeps the old one."""
    db.session.connection().execute(sa.text("UPDATE cases SET version = version + 1 WHERE id = :id"), {"id": case.id})


def case_state(case_id: int) -> dict:
    row = db.session.execute(
        sa.select(Case.status, Case.assignee_id, Case.severity, Case.version).where(Case.id == case_id)
    ).one()
    events = db.session.scalar(sa.select(sa.func.count(CaseEvent.id)).where(CaseEvent.case_id == case_id))
    return {**row._asdict(), "events": events}


# --- one session: the expected version, on SQLite and PostgreSQL ---------------------------------

ACTIONS = {
    "assign": lambda case, w, v: services.assign_case(case, w.manager_b, actor=w.lead, expected_version=v),
    "details": lambda case, w, v: services.change_case_details(
        case, actor=w.lead, severity="high", kind="issue", category="billing", reason="Urgent", expected_version=v
    ),
    "waiting": lambda case, w, v: services.set_waiting_on_customer(
        case, actor=w.lead, message="Which browser?", expected_version=v
    ),
    "resolve": lambda case, w, v: services.resolve_case(case, actor=w.lead, summary="Fixed", expected_version=v),
    "close": lambda case, w, v: services.close_case(case, actor=w.lead, expected_version=v),
    "merge": lambda case, w, v: services.merge_case(case, w.target, actor=w.lead, expected_version=v),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_action_on_a_version_the_actor_never_saw_is_refused(world, action):
    case = factories.make_case(requester=world.alice)
    world.target = factories.make_case(requester=world.alice)
    seen = case.version
    factories.add_event(case, actor=world.alice, body="One more detail")  # the case moves on
    before = case_state(case.id), case_state(world.target.id)
    with pytest.raises(ConflictError, match="This case changed while you were working on it"):
        ACTIONS[action](case, world, seen)
    assert (case_state(case.id), case_state(world.target.id)) == before


def test_staff_reopen_on_a_version_the_actor_never_saw_is_refused(world):
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED)
    seen = case.version
    factories.add_event(case, actor=world.alice, body="Thanks!")
    before = case_state(case.id)
    with pytest.raises(ConflictError):
        services.reopen_case(case, actor=world.lead, reason="Not fixed", expected_version=seen)
    assert case_state(case.id) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_version_column_catches_a_change_committed_after_the_case_was_loaded(world, action):
    case = factories.make_case(requester=world.alice)
    world.target = factories.make_case(requester=world.alice)
    db.session.commit()  # keep the setup when the failed unit of work is rolled back
    loaded = case.version
    bump_version_behind_the_sessions_back(case)
    # The expected-version check passes (the loaded object is as the page showed it); the UPDATE's
    # "AND version = :loaded" then matches no row.
    with pytest.raises(StaleDataError):
        ACTIONS[action](case, world, loaded)
    db.session.rollback()
    assert case_state(case.id)["status"] == Status.OPEN
    assert case_state(case.id)["version"] == loaded


def test_a_race_lost_at_flush_is_a_409_page_and_changes_nothing(client_as, world, monkeypatch):
    case = factories.make_case(requester=world.alice)
    before = case_state(case.id)
    resolve = services.resolve_case

    def resolve_after_someone_else(case, **kwargs):
        bump_version_behind_the_sessions_back(case)
        return resolve(case, **kwargs)

    monkeypatch.setattr(services, "resolve_case", resolve_after_someone_else)
    response = client_as(world.lead).post(
        f"/cases/{case.reference}/resolve", data={"resolve-summary": "Fixed", "resolve-version": before["version"]}
    )
    assert response.status_code == 409
    assert "This case changed while you were working on it" in response.get_data(as_text=True)
    assert case_state(case.id) == before


# --- two threads, two sessions, PostgreSQL -------------------------------------------------------


@pytest.fixture
def committed(app):
    """Really committed data, each thread getting its own `Session(bind=db.engine)` through
    `db.session`: an account managed by `manager`, a customer, a second manager `other`, two team
    leads, and a `new`, unassigned case. Everything created is deleted afterwards."""
    with app.app_context():
        original = db.session
        # Thread-local: each thread's `db.session` is the Session it registers (see `race`).
        db.session = scoped_session(sessionmaker(bind=db.engine))
        created = SimpleNamespace(case_ids=[], user_ids=[], account_ids=[])
        try:
            manager = factories.make_user(role=Role.ACCOUNT_MANAGER, name="Racing Manager")
            other = factories.make_user(role=Role.ACCOUNT_MANAGER, name="Other Manager")
            lead = factories.make_user(role=Role.TEAM_LEAD, name="Lead One")
            lead2 = factories.make_user(role=Role.TEAM_LEAD, name="Lead Two")
            account = factories.make_account(manager=manager)
            customer = factories.make_user(role=Role.CUSTOMER, account=account)
            case = factories.make_case(requester=customer, status=Status.NEW)
            created.case_ids.append(case.id)
            created.account_ids.append(account.id)
            created.user_ids += [customer.id, manager.id, other.id, lead.id, lead2.id]
            db.session.commit()
            yield SimpleNamespace(
                case_id=case.id, manager_id=manager.id, other_id=other.id, lead_id=lead.id, lead2_id=lead2.id
            )
        finally:
            db.session.rollback()
            # The actions queue mail for the people involved: those rows go first.
            db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.recipient_id.in_(created.user_ids)))
            db.session.execute(sa.delete(CaseEvent).where(CaseEvent.case_id.in_(created.case_ids)))
            db.session.execute(sa.delete(Case).where(Case.id.in_(created.case_ids)))
            db.session.execute(sa.update(Account).where(Account.id.in_(created.account_ids)).values(manager_id=None))
            for user_id in created.user_ids:  # the customer first: it belongs to the account
                db.session.execute(sa.delete(User).where(User.id == user_id))
            db.session.execute(sa.delete(Account).where(Account.id.in_(created.account_ids)))
            db.session.commit()
            db.session.remove()
            db.session = original


def race(app, case_id: int, contenders) -> list:
    """Run each `(actor_id, action)` in its own thread and session. Both load the case, wait at a
    barrier until the other has loaded it too, then act and commit. Returns each one's outcome:
    "ok", or the conflict it met ("StaleDataError" or "ConflictError")."""
    barrier = threading.Barrier(len(contenders), timeout=10)
    outcomes = [None] * len(contenders)

    def contender(index, actor_id, action):
        with app.app_context():
            session = Session(bind=db.engine)
            db.session.registry.set(session)
            try:
                case = session.get(Case, case_id)
                actor = session.get(User, actor_id)
                seen = case.version
                barrier.wait()
                action(case, actor, seen)
                session.commit()
                outcomes[index] = "ok"
            except (StaleDataError, ConflictError) as conflict:
                session.rollback()
                outcomes[index] = type(conflict).__name__
            except Exception as error:  # reported by the test rather than lost in the thread
                session.rollback()
                outcomes[index] = error
            finally:
                session.close()
                db.session.registry.clear()

    threads = [
        threading.Thread(target=contender, args=(index, actor_id, action))
        for index, (actor_id, action) in enumerate(contenders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a contender hung"
    return outcomes


def final_case(case_id: int) -> Case:
    """The case as committed now: end this session's transaction, which also forgets what it had loaded."""
    db.session.rollback()
    return db.session.get(Case, case_id)


def final_events(case_id: int, type: EventType) -> list[CaseEvent]:
    query = sa.select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.type == type)
    return list(db.session.scalars(query))


@needs_postgres
def test_two_staff_resolving_the_same_case_at_once_one_wins(app, committed):
    def resolve(summary):
        return lambda case, actor, seen: services.resolve_case(
            case, actor=actor, summary=summary, expected_version=seen
        )

    with app.app_context():
        open_it = db.session.get(Case, committed.case_id)
        open_it.status = Status.OPEN
        db.session.commit()
    outcomes = race(
        app, committed.case_id, [(committed.lead_id, resolve("Lead fixed it")), (committed.lead2_id, resolve("Me too"))]
    )

    assert sorted(map(str, outcomes)) in (["StaleDataError", "ok"], ["ConflictError", "ok"]), outcomes
    with app.app_context():
        case = final_case(committed.case_id)
        assert case.status == Status.RESOLVED
        (resolved,) = final_events(committed.case_id, EventType.STATUS_CHANGED)
        winner = ["Lead fixed it", "Me too"][outcomes.index("ok")]
        assert resolved.body == winner


@needs_postgres
def test_two_triagers_assigning_the_same_case_at_once_exactly_one_assignment_stands(app, committed):
    def assign_to(assignee_id):
        def action(case, actor, seen):
            assignee = db.session.get(User, assignee_id)
            services.assign_case(case, assignee, actor=actor, expected_version=seen)

        return action

    outcomes = race(
        app,
        committed.case_id,
        [(committed.lead_id, assign_to(committed.manager_id)), (committed.lead2_id, assign_to(committed.other_id))],
    )

    assert sorted(map(str, outcomes)) in (["StaleDataError", "ok"], ["ConflictError", "ok"]), outcomes
    winner = [committed.manager_id, committed.other_id][outcomes.index("ok")]
    with app.app_context():
        case = final_case(committed.case_id)
        assert (case.assignee_id, case.status) == (winner, Status.OPEN)
        (assigned,) = final_events(committed.case_id, EventType.ASSIGNED)
        assert assigned.data["to"] == winner
        (opened,) = final_events(committed.case_id, EventType.STATUS_CHANGED)
        assert opened.data == {"from": "new", "to": "open"}
