"""Account status from health (`portal.reports.status`): active ↔ at risk, churned untouched, only
changed rows written, idempotent; `flask accounts refresh-status`, and the repeating SLA
sweep running it at most once an hour."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Account, AccountStatus, Role
from portal.models.base import utcnow
from portal.reports.status import refresh_account_statuses
from portal.sla import routes as sla_routes
from tests import factories


def make_unhealthy(account: Account, *, now) -> None:
    """Four cases in the last 90 days after none before, each past its first-response due with no
    answer, three of them escalated: health 31 (volume −15, breaches −30, escalations −24)."""
    customer = factories.make_user(role=Role.CUSTOMER, account=account)
    for index in range(4):
        factories.make_case(
            requester=customer,
            created_at=now - timedelta(days=index + 2),
            first_response_due_at=now - timedelta(days=1),
            resolution_due_at=now + timedelta(days=5),
            escalation_level=1 if index < 3 else 0,
        )


def stored_status(account: Account | int) -> AccountStatus:
    account_id = account if isinstance(account, int) else account.id
    return db.session.scalar(sa.select(Account.status).where(Account.id == account_id))


@pytest.fixture
def account_updates(db_session):
    """The UPDATE statements sent for the accounts table while the test runs."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE ACCOUNTS"):
            statements.append(statement)

    engine = db_session.get_bind().engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield statements
    sa.event.remove(engine, "before_cursor_execute", record)


def test_an_unhealthy_active_account_is_set_at_risk_and_a_healthy_one_left_active(world):
    now = utcnow()
    make_unhealthy(world.account_a, now=now)

    changes = refresh_account_statuses(now=now)

    assert [(c.account_id, c.old, c.new, c.score) for c in changes] == [
        (world.account_a.id, AccountStatus.ACTIVE, AccountStatus.AT_RISK, 31)
    ]
    assert stored_status(world.account_a) == AccountStatus.AT_RISK
    assert world.account_a.status == AccountStatus.AT_RISK  # the loaded account sees it too
    assert stored_status(world.account_b) == AccountStatus.ACTIVE


def test_an_at_risk_account_whose_health_recovered_goes_back_to_active(world):
    world.account_b.status = AccountStatus.AT_RISK  # no cases at all now: health 100
    db.session.flush()

    changes = refresh_account_statuses(now=utcnow())

    assert [(c.name, c.old, c.new, c.score) for c in changes] == [
        ("Bravo plc", AccountStatus.AT_RISK, AccountStatus.ACTIVE, 100)
    ]
    assert stored_status(world.account_b) == AccountStatus.ACTIVE


def test_churned_accounts_are_never_touched(world):
    now = utcnow()
    unhealthy = factories.make_account(name="Gone Ltd", status=AccountStatus.CHURNED)
    make_unhealthy(unhealthy, now=now)
    healthy = factories.make_account(name="Left Ltd", status=AccountStatus.CHURNED)

    changes = refresh_account_statuses(now=now)

    assert changes == []
    assert stored_status(unhealthy) == stored_status(healthy) == AccountStatus.CHURNED


def test_a_second_run_changes_nothing_and_writes_no_row(world, account_updates):
    now = utcnow()
    make_unhealthy(world.account_a, now=now)
    world.account_b.status = AccountStatus.AT_RISK
    db.session.flush()
    assert len(refresh_account_statuses(now=now)) == 2

    before = len(account_updates)
    assert refresh_account_statuses(now=now) == []  # the UPDATEs return every row they wrote: none

    sent = account_updates[before:]
    assert len(sent) <= 2  # one conditional UPDATE per status, whatever the number of accounts
    assert stored_status(world.account_a) == AccountStatus.AT_RISK
    assert stored_status(world.account_b) == AccountStatus.ACTIVE


def test_many_accounts_change_in_one_update_per_status(world, account_updates):
    now = utcnow()
    for account in (world.account_a, world.account_b, factories.make_account(name="Charlie Co")):
        make_unhealthy(account, now=now)
    recovered = [factories.make_account(status=AccountStatus.AT_RISK) for _ in range(3)]

    changes = refresh_account_statuses(now=now)

    assert sorted((c.name, c.new) for c in changes) == sorted(
        [(name, AccountStatus.AT_RISK) for name in ("Acme Ltd", "Bravo plc", "Charlie Co")]
        + [(account.name, AccountStatus.ACTIVE) for account in recovered]
    )
    assert len(account_updates) == 2
    assert all(" IN " in statement.upper() for statement in account_updates)


# --- the command line ----------------------------------------------------------------------------


def test_refresh_account_status_command_sets_and_commits_the_statuses(app, world):
    make_unhealthy(world.account_a, now=utcnow())
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["accounts", "refresh-status"])

    assert result.exit_code == 0, result.output
    assert "Account statuses: 1 changed: Acme Ltd active → at risk (health 31)." in result.output
    db.session.rollback()  # only what the command committed is left
    assert stored_status(world.account_a) == AccountStatus.AT_RISK

    again = app.test_cli_runner().invoke(args=["accounts", "refresh-status"])
    assert again.exit_code == 0, again.output
    assert "Account statuses: no change." in again.output


class _StopSweeping(Exception):
    pass


def run_sweep_loop(app, monkeypatch, times):
    """`flask sla sweep --every 60` for one pass at each of `times`, then stopped in its sleep."""
    clock = iter(times)
    monkeypatch.setattr(sla_routes, "utcnow", lambda: next(clock))
    passes = []

    def sleep(seconds):
        passes.append(seconds)
        if len(passes) == len(times):
            raise _StopSweeping

    monkeypatch.setattr(sla_routes.time, "sleep", sleep)
    result = app.test_cli_runner().invoke(args=["sla", "sweep", "--every", "60"])
    assert isinstance(result.exception, _StopSweeping), result.output
    return result.output


def test_the_repeating_sweep_refreshes_statuses_at_first_and_then_at_most_once_an_hour(app, world, monkeypatch):
    start = utcnow()
    make_unhealthy(world.account_a, now=start)
    db.session.commit()
    account_id = world.account_a.id  # the loop ends each pass with a fresh session

    output = run_sweep_loop(
        app,
        monkeypatch,
        [start, start + timedelta(minutes=30), start + timedelta(minutes=59), start + timedelta(minutes=61)],
    )

    assert output.count("SLA sweep:") == 4
    refreshes = [line for line in output.splitlines() if line.startswith("Account statuses:")]
    assert refreshes == [
        "Account statuses: 1 changed: Acme Ltd active → at risk (health 31).",
        "Account statuses: no change.",
    ]
    lines = output.splitlines()
    assert lines.index(refreshes[0]) == 1  # right after the first pass …
    assert lines.index(refreshes[1]) == len(lines) - 1  # … and after the one an hour later, not before
    assert stored_status(account_id) == AccountStatus.AT_RISK


def test_a_single_sweep_leaves_the_statuses_alone(app, world):
    make_unhealthy(world.account_a, now=utcnow())
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["sla", "sweep"])

    assert result.exit_code == 0, result.output
    assert "Account statuses" not in result.output
    assert stored_status(world.account_a) == AccountStatus.ACTIVE
