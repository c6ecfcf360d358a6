"""The command-line tasks: `flask seed-demo` (the demo data) and `flask create-user`."""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from portal import demo
from portal.auth import policy
from portal.cases import services, workflow
from portal.demo import DEMO_PASSWORD, IN_PROGRESS_DAYS, seed_demo_data
from portal.extensions import db
from portal.models import (
    CATEGORIES,
    OPEN_STATUSES,
    Account,
    AccountStatus,
    Case,
    CaseEvent,
    Escalation,
    EscalationReason,
    EventType,
    Kind,
    Role,
    Severity,
    Status,
    Tier,
    User,
)
from portal.models.base import utcnow
from portal.reports import services as reports
from portal.reports.periods import last_quarters
from portal.reports.scope import Scope
from portal.triage import queues
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


def staff_user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def queue(user: User, name: str, *, now, due: str = "") -> list[Case]:
    return db.session.scalars(queues.filtered_query(user, name, queues.CaseFilters(due=due), now=now)).all()


# --- seed-demo ---------------------------------------------------------------------------------------


def test_seed_demo_loads_accounts_people_and_two_years_of_cases(app, db_session):
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
    assert 700 <= found["cases"] <= 820  # CASE_COUNT, the showcase cases and nothing more
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

    managers = Counter(account.manager.email if account.manager else None for account in accounts)
    assert managers == {
        "alex.am@casebridge.example": 3,
        "bea.am@casebridge.example": 3,
        "chris.am@casebridge.example": 3,
        "dev.am@casebridge.example": 2,
        None: 1,  # newly signed and awaiting a manager
    }
    new_account = next(account for account in accounts if account.manager is None)
    assert new_account.name not in ("Northwind Traders", "Globex Corporation")
    assert new_account.created_at > utcnow() - timedelta(days=90)
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
    # A working week in progress (a few cases per manager and the triage backlog), not a share of
    # the history: however long that is, old cases have all run to their end.
    assert 12 <= sum(case.status in OPEN_STATUSES for case in cases) <= 40
    assert 2 <= statuses[Status.WAITING_ON_CUSTOMER] <= 8
    recent = {case.status for case in cases if case.created_at > utcnow() - timedelta(weeks=4)}
    assert {Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER, Status.RESOLVED} <= recent

    now = utcnow()
    oldest = min(case.created_at for case in cases)
    assert now - timedelta(days=demo.HISTORY_DAYS + 1) <= oldest
    # Nothing sits in a queue for months, and no resolved case has outstayed the auto-close.
    for case in cases:
        if case.status in OPEN_STATUSES:
            assert case.created_at > now - timedelta(days=IN_PROGRESS_DAYS), case.reference
        if case.status == Status.RESOLVED:
            assert case.updated_at > now - timedelta(days=7), case.reference  # AUTO_CLOSE_DAYS
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

        # Routed at submission to the account's manager (by the portal, no actor), else triaged
        # later; every assignment records what `assign_case` does, with no body.
        assigned = [event for event in timeline if event.type == EventType.ASSIGNED]
        if case.account.manager_id is not None:
            first = assigned[0]
            assert first.actor_id is None and first.created_at == case.created_at, case.reference
            assert first.data["to"] == case.account.manager_id, case.reference
        assignee = None
        for event in assigned:
            to = db_session.get(User, event.data["to"])
            assert event.body is None, case.reference
            assert event.data == services._assignment_data(assignee, to), case.reference
            assert event.data["to_name"] == to.name
            assignee = to
        assert case.assignee_id == (assignee.id if assignee else None), case.reference
        if case.status == Status.NEW and case.assignee_id is None:
            assert len(timeline) == 1 and case.account.manager_id is None, case.reference
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
        assert case.created_at < case.first_response_due_at <= case.resolution_due_at, case.reference
        closes = [event for event in timeline if event.data and event.data.get("to") == Status.CLOSED.value]
        if closes and closes[0].actor_id is None:  # the auto-close job, a week after the last event
            assert closes[0].created_at - timeline[-2].created_at == timedelta(days=7), case.reference


def check_staff_queues(now) -> None:
    """The staff queues as issue 3 wants them shown: a triage backlog, each manager's few cases, and
    in Alex's queue a breached case and one due soon (both by `Case.next_due_at`)."""
    lead = staff_user("tara.lead@casebridge.example")
    triage = queue(lead, "triage", now=now)
    assert 3 <= len(triage) <= 8
    assert all(case.account.manager_id is None for case in triage)  # routing left them unassigned
    assert queues.count_queues(lead)["triage"] == len(triage)

    for name in ("alex", "bea", "chris", "dev"):
        manager = staff_user(f"{name}.am@casebridge.example")
        mine = queue(manager, "mine", now=now)
        assert 2 <= len(mine) <= 6, (name, len(mine))
        assert all(case.created_at > now - timedelta(days=IN_PROGRESS_DAYS) for case in mine)

    alex = staff_user("alex.am@casebridge.example")
    breached = queue(alex, "mine", now=now, due="breached")
    due_soon = queue(alex, "mine", now=now, due="due_soon")
    assert breached and all(case.next_due_at < now for case in breached)
    assert due_soon and all(now <= case.next_due_at < now + queues.DUE_SOON for case in due_soon)

    team = queue(lead, "team", now=now)
    assert len(team) == sum(case.status in OPEN_STATUSES for case in db.session.scalars(sa.select(Case)))
    assert any(case.status == Status.WAITING_ON_CUSTOMER and case.next_due_at is None for case in team)


def test_demo_staff_queues_show_a_backlog_and_breached_and_due_soon_cases(seeded, db_session):
    check_staff_queues(utcnow())


# Times of the week when no due the business calendar computes can be within DUE_SOON, and times
# when one can: the seed shows a due-soon case at each.
@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 7, 22, 40, tzinfo=UTC),  # Saturday night
        datetime(2026, 3, 9, 6, 15, tzinfo=UTC),  # Monday before opening
        datetime(2026, 3, 11, 16, 55, tzinfo=UTC),  # Wednesday, just before closing
        datetime(2026, 3, 13, 11, 0, tzinfo=UTC),  # Friday morning
    ],
    ids=["saturday-night", "monday-early", "wednesday-closing", "friday-morning"],
)
def test_demo_queues_look_the_same_whatever_the_time_of_the_seed(db_session, monkeypatch, now):
    monkeypatch.setattr(demo, "utcnow", lambda: now)
    seed_demo_data()

    check_staff_queues(now)
    assert max(case.updated_at for case in db_session.scalars(sa.select(Case))) <= now


# The last day of a quarter: the dashboard's oldest quarter, and the one its report is compared
# with, reach furthest back then (8 full quarters and almost all of the current one).
QUARTER_END = datetime(2026, 12, 31, 15, 0, tzinfo=UTC)
COMPANY = Scope("company", "Whole company")


@pytest.fixture
def seeded_at_quarter_end(db_session, monkeypatch):
    monkeypatch.setattr(demo, "utcnow", lambda: QUARTER_END)
    seed_demo_data()
    return QUARTER_END


def test_demo_history_fills_every_quarter_of_the_dashboard_trend(seeded_at_quarter_end, db_session):
    now = seeded_at_quarter_end
    executive = staff_user("erin.exec@casebridge.example")
    quarters = last_quarters(now, reports.TREND_QUARTERS + 1)  # and the quarter the oldest is compared with
    assert quarters[0].start > now - timedelta(days=demo.HISTORY_DAYS)

    for quarter in quarters:
        report = reports.build_report(executive, COMPANY, quarter, now=now)
        summary = report.summary
        assert summary.cases >= 40, quarter.label
        assert summary.rated >= 15 and summary.csat is not None, quarter.label
        assert summary.first_response_compliance is not None, quarter.label
        assert summary.resolution_compliance is not None, quarter.label
        assert all(report.breakdown[dimension][0] for dimension in ("kind", "category", "severity")), quarter.label
        assert report.escalations["reason"][0], quarter.label  # escalations opened in the quarter
        assert report.digest, quarter.label

    board = reports.build_dashboard(executive, COMPANY, now=now)
    assert len(board.trend) == reports.TREND_QUARTERS
    assert all(summary.csat is not None and summary.response_rate is not None for summary in board.trend)


def test_demo_account_statuses_are_the_ones_their_health_gives(seeded_at_quarter_end, db_session):
    healths = reports.fetch_account_health(COMPANY, as_of=QUARTER_END)
    accounts = {account.id: account for account in db_session.scalars(sa.select(Account))}

    assert len(healths) == len(accounts) == 12  # no demo account has churned
    for row in healths:
        expected = AccountStatus.AT_RISK if row.health.at_risk else AccountStatus.ACTIVE
        assert accounts[row.facts.account_id].status == expected, row.facts.name


def test_demo_escalates_the_cases_the_rules_escalate(seeded, db_session):
    """Critical at submission (as `submit_case`), by the case's own story; a case's level is that of
    its open escalation, and it has at most one."""
    events = defaultdict(list)
    for event in db_session.scalars(sa.select(CaseEvent).order_by(CaseEvent.id)):
        events[event.case_id].append(event)
    escalations = defaultdict(list)
    for escalation in db_session.scalars(sa.select(Escalation)):
        escalations[escalation.case_id].append(escalation)

    critical = 0
    for case in db_session.scalars(sa.select(Case)):
        timeline = events[case.id]
        changes = [event for event in timeline if event.type == EventType.SEVERITY_CHANGED]
        submitted = changes[0].data["from"] if changes else case.severity.value
        at_submission = [
            event
            for event in timeline
            if event.type == EventType.ESCALATED
            and event.data["reason"] == EscalationReason.CRITICAL_SEVERITY.value
            and event.created_at == case.created_at
        ]
        assert len(at_submission) == (submitted == Severity.CRITICAL.value), case.reference
        critical += submitted == Severity.CRITICAL.value
        open_ = [escalation for escalation in escalations[case.id] if escalation.is_open]
        assert len(open_) <= 1, case.reference
        assert case.escalation_level == (open_[0].level if open_ else 0), case.reference
        for escalation in escalations[case.id]:
            mentioned = {event.data.get("escalation_id") for event in timeline if event.data}
            assert escalation.id in mentioned, case.reference
    assert critical >= 30


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
