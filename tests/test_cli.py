"""The command-line tasks: `flask seed-demo` (the demo data) and `flask create-user`."""

from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from portal.auth import policy
from portal.cases import workflow
from portal.demo import DEMO_PASSWORD, seed_demo_data
from portal.extensions import db
from portal.models import (
    CATEGORIES,
    OPEN_STATUSES,
    Account,
    Case,
    CaseEvent,
    EventType,
    Kind,
    Role,
    Status,
    Tier,
    User,
)
from portal.models.base import utcnow
from tests import factories

DEMO_LOGINS = [
    ("admin", "admin@casebridge.example"),
    ("executive", "erin.exec@casebridge.example"),
    ("executive", "omar.exec@casebridge.example"),
    ("team lead", "tara.lead@casebridge.example"),
    ("account manager", "alex.am@casebridge.example"),
    ("account manager", "bea.am@casebridge.example"),
    ("account manager", "chris.am@casebridge.example"),
    ("account manager", "dev.am@casebridge.example"),
    ("customer (Northwind Traders)", "dana@northwind.example"),
    ("customer (Globex Corporation)", "sam@globex.example"),
]


def count(model, *conditions) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions))


def counts() -> dict[str, int]:
    return {
        "accounts": count(Account),
        "staff": count(User, User.role != Role.CUSTOMER),
        "customers": count(User, User.role == Role.CUSTOMER),
        "cases": count(Case),
        "events": count(CaseEvent),
    }


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def seeded(db_session):
    """The demo data, loaded once for the test (flushed, inside the test's transaction)."""
    logins, created = seed_demo_data()
    assert created
    return logins


# --- seed-demo ---------------------------------------------------------------------------------------


def test_seed_demo_loads_accounts_people_and_a_year_of_cases(app, db_session):
    result = run(app, "seed-demo")

    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    assert f"password for all: {DEMO_PASSWORD}" in result.output
    printed = [line.split() for line in result.output.splitlines() if "@" in line]
    assert [line[-1] for line in printed] == [email for _label, email in DEMO_LOGINS]
    assert "customer (Northwind Traders)" in result.output

    found = counts()
    assert found["accounts"] == 12
    assert found["staff"] == 8
    assert 24 <= found["customers"] <= 48
    assert 350 <= found["cases"] <= 450
    assert Counter(account.tier for account in db_session.scalars(sa.select(Account))) == {
        Tier.STANDARD: 5,
        Tier.PREMIUM: 4,
        Tier.STRATEGIC: 3,
    }
    for label, email in DEMO_LOGINS:
        user = db_session.scalar(sa.select(User).where(User.email == email))
        assert user is not None, email
        assert check_password_hash(user.password_hash, DEMO_PASSWORD)
        assert user.role.value.replace("_", " ") in label

    accounts = db_session.scalars(sa.select(Account).order_by(Account.id)).all()
    northwind, globex = accounts[0], accounts[1]
    assert (northwind.name, northwind.email_domain, northwind.tier) == (
        "Northwind Traders",
        "northwind.example",
        Tier.PREMIUM,
    )
    assert northwind.manager.email == "alex.am@casebridge.example"
    assert (globex.name, globex.email_domain, globex.tier) == ("Globex Corporation", "globex.example", Tier.STRATEGIC)
    assert globex.manager.email == "bea.am@casebridge.example"
    assert db_session.scalar(sa.select(User).where(User.email == "dana@northwind.example")).account == northwind
    assert db_session.scalar(sa.select(User).where(User.email == "sam@globex.example")).account == globex

    assert Counter(account.manager.email for account in accounts) == {
        f"{name}.am@casebridge.example": 3 for name in ("alex", "bea", "chris", "dev")
    }
    value_range = {
        Tier.STANDARD: (10_000, 60_000),
        Tier.PREMIUM: (60_000, 250_000),
        Tier.STRATEGIC: (250_000, 1_200_000),
    }
    today = utcnow().date()
    timezones = set()
    for account in accounts:
        low, high = value_range[account.tier]
        assert low <= account.annual_contract_value <= high, account.name
        assert today < account.renewal_date <= today + timedelta(days=18 * 31), account.name
        people = db_session.scalars(sa.select(User).where(User.account_id == account.id)).all()
        assert 2 <= len(people) <= 4, account.name
        assert all(person.email.endswith(f"@{account.email_domain}") for person in people)
        timezones |= {person.timezone for person in people}
    assert {"America/New_York", "Europe/Berlin", "Asia/Singapore"} <= timezones


def test_seed_demo_a_second_time_changes_nothing_and_says_so(app, db_session):
    first = run(app, "seed-demo")
    assert first.exit_code == 0, first.output
    before = counts()

    second = run(app, "seed-demo")

    assert second.exit_code == 0, second.output
    assert "already present; nothing changed" in second.output
    assert "Demo data loaded." not in second.output
    assert "dana@northwind.example" in second.output
    assert counts() == before


def test_demo_cases_have_a_realistic_mix(seeded, db_session):
    cases = db_session.scalars(sa.select(Case)).all()
    total = len(cases)
    kinds = Counter(case.kind for case in cases)
    assert 0.4 <= kinds[Kind.ISSUE] / total <= 0.6
    assert 0.2 <= kinds[Kind.QUERY] / total <= 0.4
    assert 0.12 <= kinds[Kind.FEEDBACK] / total <= 0.28
    assert all(case.category in CATEGORIES for case in cases)
    feedback_categories = Counter(case.category for case in cases if case.kind == Kind.FEEDBACK)
    assert set(feedback_categories) <= {"feature_request", "documentation", "other"}
    assert len({case.subject for case in cases}) >= 60  # templates with variations, not one subject

    statuses = Counter(case.status for case in cases)
    assert set(statuses) == set(Status)  # new, open, waiting, resolved and closed are all there
    assert 0.08 <= (total - statuses[Status.CLOSED]) / total <= 0.16
    recent = {case.status for case in cases if case.created_at > utcnow() - timedelta(weeks=4)}
    assert {Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER, Status.RESOLVED} <= recent

    oldest = min(case.created_at for case in cases)
    assert utcnow() - timedelta(days=366) <= oldest
    closed = [case for case in cases if case.status == Status.CLOSED]
    rated = [case for case in closed if case.satisfaction_score is not None]
    assert 0.45 <= len(rated) / len(closed) <= 0.75
    assert sum(case.satisfaction_score >= 4 for case in rated) > len(rated) / 2
    assert any(case.reopen_count > 0 for case in cases)


def test_demo_timelines_are_in_order_and_agree_with_the_cases(seeded, db_session):
    events = defaultdict(list)
    for event in db_session.scalars(sa.select(CaseEvent).order_by(CaseEvent.id)):
        events[event.case_id].append(event)
    now = utcnow()

    for case in db_session.scalars(sa.select(Case)):
        timeline = events[case.id]
        times = [event.created_at for event in timeline]
        assert times == sorted(times), case.reference
        assert timeline[0].type == EventType.CREATED and timeline[0].created_at == case.created_at
        assert timeline[0].actor_id == case.requester_id
        assert case.created_at <= case.updated_at == times[-1] <= now

        status = Status.NEW
        for change in (event for event in timeline if event.type == EventType.STATUS_CHANGED):
            assert change.data["from"] == status.value, case.reference
            status = Status(change.data["to"])
            assert status in workflow.ALLOWED[Status(change.data["from"])], case.reference
        assert status == case.status, case.reference

        staff_replies = [e.created_at for e in timeline if e.type == EventType.PUBLIC_REPLY and e.actor.is_staff]
        assert case.first_response_at == (staff_replies[0] if staff_replies else None), case.reference
        if case.status == Status.NEW:
            assert case.assignee_id is None and len(timeline) == 1
        else:
            assert case.assignee_id == case.account.manager_id, case.reference
        if case.status == Status.CLOSED:
            assert case.closed_at is not None and case.closed_at >= case.created_at
        else:
            assert case.closed_at is None and case.satisfaction_score is None
        if case.status == Status.RESOLVED:
            assert case.created_at <= case.resolved_at
        if case.status in OPEN_STATUSES:
            assert case.resolved_at is None
        assert (case.sla_paused_at is not None) == (case.status == Status.WAITING_ON_CUSTOMER)
        assert case.first_response_due_at is not None and case.resolution_due_at is not None


def test_every_demo_customer_sees_their_own_accounts_cases(seeded, db_session):
    for customer in db_session.scalars(sa.select(User).where(User.role == Role.CUSTOMER)):
        visible = db_session.scalars(policy.visible_cases(customer)).all()
        own = count(Case, Case.account_id == customer.account_id)
        assert own > 0, customer.email
        assert len(visible) == own, customer.email
        assert {case.account_id for case in visible} == {customer.account_id}


# --- create-user -------------------------------------------------------------------------------------


def test_create_user_makes_an_admin_with_the_given_password(app, db_session):
    result = run(
        app, "create-user", "--email", "Root@Example.com", "--name", "Rita Root", "--role", "admin",
        "--password", "a long enough password",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Created admin root@example.com." in result.output
    user = db_session.scalar(sa.select(User).where(User.email == "root@example.com"))
    assert user.role == Role.ADMIN and user.account_id is None
    assert check_password_hash(user.password_hash, "a long enough password")


def test_create_user_makes_a_customer_of_a_named_account(app, db_session):
    account = factories.make_account(name="Acme Ltd")

    result = run(
        app, "create-user", "--email", "cara@acme.example", "--name", "Cara", "--role", "customer",
        "--account", "Acme Ltd", "--password", "a long enough password",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert db_session.scalar(sa.select(User).where(User.email == "cara@acme.example")).account_id == account.id


def test_create_user_refuses_an_email_already_in_use(app, db_session):
    factories.make_user(role=Role.ADMIN, email="taken@example.com")
    db_session.commit()  # the command rolls back its failed work; that must not take this user along

    result = run(
        app, "create-user", "--email", "TAKEN@example.com", "--name", "Someone Else", "--role", "admin",
        "--password", "a long enough password",
    )  # fmt: skip

    assert result.exit_code != 0
    assert "A user with this e-mail address already exists." in result.output
    assert count(User, User.email == "taken@example.com") == 1


def test_create_user_refuses_a_customer_without_an_account(app, db_session):
    result = run(
        app, "create-user", "--email", "lost@example.com", "--name", "Lost", "--role", "customer",
        "--password", "a long enough password",
    )  # fmt: skip

    assert result.exit_code != 0
    assert "A customer must belong to an account." in result.output
    assert count(User) == 0


def test_create_user_refuses_an_unknown_account(app, db_session):
    result = run(
        app, "create-user", "--email", "who@example.com", "--name", "Who", "--role", "customer",
        "--account", "No Such Ltd", "--password", "a long enough password",
    )  # fmt: skip

    assert result.exit_code != 0
    assert "No account named 'No Such Ltd'." in result.output
    assert count(User) == 0
