"""Escalation pages through HTTP: who may reach each route (a role × endpoint matrix), 404 for cases
the user cannot see, forms that keep what was typed, the case panel, and the board."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.escalations import services
from portal.extensions import db, limiter
from portal.models import CaseEvent, Role, Severity, Tier
from portal.models.base import utcnow
from tests import factories
from tests.conftest import make_test_config

EVERYONE = ("alice", "bob", "manager_a", "manager_b", "lead", "executive", "admin")


@pytest.fixture
def setup(world):
    """`world` plus `open_a` (alice's, not escalated), `l1` (a level-1 escalation on another case of
    account A), `l2` (level 2, on a third case) and `open_b` (bob's)."""
    w = world
    w.open_a = factories.make_case(requester=w.alice, subject="Invoices will not download")
    w.open_b = factories.make_case(requester=w.bob, subject="Bravo private trouble")
    case1 = factories.make_case(requester=w.alice, subject="Level one trouble")
    w.l1 = services.raise_escalation(case1, actor=w.lead, level=1, reason="Upset", expected_version=case1.version)
    case2 = factories.make_case(requester=w.alice, subject="Level two trouble")
    w.l2 = services.raise_escalation(case2, actor=w.lead, level=2, reason="Very upset", expected_version=case2.version)
    db.session.flush()
    return w


def count_events() -> int:
    return db.session.scalar(sa.select(sa.func.count(CaseEvent.id)))


ENDPOINTS = {
    "board": ("GET", "/escalations", None),
    "request": ("POST", "/cases/{open_a.reference}/escalate", {"escalate-reason": "Hurry please"}),
    "raise": (
        "POST",
        "/cases/{open_a.reference}/escalations",
        {"raise-level": "1", "raise-reason": "Angry", "raise-version": "{open_a.version}"},
    ),
    "acknowledge-l1": ("POST", "/escalations/{l1.id}/acknowledge", {"ack-version": "{l1.version}"}),
    "acknowledge-l2": ("POST", "/escalations/{l2.id}/acknowledge", {"ack-version": "{l2.version}"}),
    "own-l1": ("POST", "/escalations/{l1.id}/own", {"own-version": "{l1.version}"}),
    "raise-l1": ("POST", "/escalations/{l1.id}/raise", {"raise2-reason": "Too big", "raise2-version": "{l1.version}"}),
    "decide-l2": (
        "POST",
        "/escalations/{l2.id}/decide",
        {"decide-outcome": "no_action", "decide-decision": "Fine", "decide-version": "{l2.version}"},
    ),
    "close-l1": ("POST", "/escalations/{l1.id}/close", {"close_escalation-version": "{l1.version}"}),
    "de-escalate-l2": (
        "POST",
        "/escalations/{l2.id}/de-escalate",
        {"deescalate-reason": "Lead can do it", "deescalate-version": "{l2.version}"},
    ),
}


def expect(default, **overrides):
    return {user: overrides.get(user, default) for user in EVERYONE}


MATRIX = {
    "board": expect(403, lead=200, executive=200),
    "request": expect(403, alice=302, bob=404),
    "raise": expect(403, manager_a=302, manager_b=404, lead=302),
    "acknowledge-l1": expect(403, lead=302),
    "acknowledge-l2": expect(403, executive=302),
    "own-l1": expect(403, lead=302),
    "raise-l1": expect(403, lead=302),
    "decide-l2": expect(403, executive=302),
    "close-l1": expect(403, lead=302),
    "de-escalate-l2": expect(403, executive=302),
}


@pytest.mark.parametrize(
    ("endpoint", "user", "status"),
    [pytest.param(e, u, s, id=f"{e}-{u}-{s}") for e, row in MATRIX.items() for u, s in row.items()],
)
def test_role_endpoint_matrix(client_as, setup, endpoint, user, status):
    method, url, data = ENDPOINTS[endpoint]
    form = {k: v.format(**vars(setup)) for k, v in data.items()} if data is not None else None
    before = count_events()
    response = client_as(getattr(setup, user)).open(url.format(**vars(setup)), method=method, data=form)
    assert response.status_code == status
    if method == "POST":
        assert (count_events() > before) is (status == 302)


def test_matrix_covers_every_escalation_endpoint(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("escalations.")}
    assert endpoints == {
        "escalations." + name
        for name in ("board", "request_escalation", "raise_escalation", "acknowledge", "own", "raise_to_level_2")
        + ("decide", "close", "de_escalate")
    }


@pytest.mark.parametrize(
    ("user", "url", "data"),
    [
        ("bob", "/cases/{ref}/escalate", {"escalate-reason": "Let me in"}),
        ("manager_b", "/cases/{ref}/escalations", {"raise-level": "1", "raise-reason": "x", "raise-version": "1"}),
    ],
)
def test_case_the_user_cannot_see_is_404_like_a_missing_one(client_as, world, user, url, data):
    case = factories.make_case(requester=world.alice, subject="Acme secret trouble")
    client = client_as(getattr(world, user))
    hidden = client.post(url.format(ref=case.reference), data=data)
    missing = client.post(url.format(ref="CB-999999"), data=data)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data() == missing.get_data()
    assert case.escalation_level == 0


@pytest.mark.parametrize(
    ("user", "action"),
    [("lead", "acknowledge"), ("lead", "own"), ("lead", "raise"), ("lead", "close"), ("executive", "decide")]
    + [("executive", "de-escalate")],
)
def test_missing_escalation_is_404(client_as, world, user, action):
    assert client_as(getattr(world, user)).post(f"/escalations/999999/{action}", data={}).status_code == 404


def test_customer_escalates_from_the_case_page_and_sees_the_level(client_as, world):
    case = factories.make_case(requester=world.alice)
    client = client_as(world.alice)
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert f"/cases/{case.reference}/escalate" in page
    response = client.post(f"/cases/{case.reference}/escalate", data={"escalate-reason": "Month end is tomorrow"})
    assert response.status_code == 302
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "escalated to our team leads" in page
    assert "Month end is tomorrow" in page
    assert "level 1" in page


def test_empty_reason_re_renders_with_an_inline_error(client_as, world):
    case = factories.make_case(requester=world.alice)
    response = client_as(world.alice).post(f"/cases/{case.reference}/escalate", data={"escalate-reason": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Tell us why this case needs escalating." in html
    assert 'aria-invalid="true"' in html


def test_second_request_within_a_day_keeps_the_typed_text_and_says_why(client_as, world):
    case = factories.make_case(requester=world.alice)
    client = client_as(world.alice)
    assert client.post(f"/cases/{case.reference}/escalate", data={"escalate-reason": "First"}).status_code == 302
    (escalation,) = services.fetch_case_escalations(case)
    services.close_escalation(escalation, actor=world.lead, expected_version=escalation.version)
    response = client.post(f"/cases/{case.reference}/escalate", data={"escalate-reason": "Second try text"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "already asked to escalate this case in the last 24 hours" in html
    assert "Second try text" in html


def test_closed_case_escalation_is_a_409_with_a_clear_message(client_as, world):
    case = factories.make_case(requester=world.alice, status="closed")
    response = client_as(world.alice).post(f"/cases/{case.reference}/escalate", data={"escalate-reason": "Please"})
    assert response.status_code == 409
    assert "is closed, so it cannot be escalated" in response.get_data(as_text=True)


def test_deciding_without_an_outcome_is_400_and_keeps_the_decision_text(client_as, setup):
    response = client_as(setup.executive).post(
        f"/escalations/{setup.l2.id}/decide",
        data={"decide-outcome": "", "decide-decision": "My typed decision", "decide-version": setup.l2.version},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose the outcome of the decision." in html
    assert "My typed decision" in html
    assert setup.l2.decided_at is None


def test_stale_escalation_version_is_a_409(client_as, setup):
    response = client_as(setup.lead).post(
        f"/escalations/{setup.l1.id}/acknowledge", data={"ack-version": setup.l1.version + 5}
    )
    assert response.status_code == 409
    assert "This escalation changed while you were looking at it" in response.get_data(as_text=True)
    assert setup.l1.acknowledged_at is None


def test_customer_never_sees_decisions_or_staff_reasons(client_as, setup):
    services.decide_escalation(
        setup.l2,
        actor=setup.executive,
        outcome="credit_offered",
        decision="Secret credit",
        expected_version=setup.l2.version,
    )
    html = client_as(setup.alice).get(f"/cases/{setup.l2.case.reference}").get_data(as_text=True)
    assert "Secret credit" not in html and "Credit offered" not in html and "Very upset" not in html
    assert "escalated to our executives" in html
    staff = client_as(setup.lead).get(f"/cases/{setup.l2.case.reference}").get_data(as_text=True)
    assert "Secret credit" in staff


def test_customer_escalate_route_is_rate_limited(tmp_path, monkeypatch):
    """An app of its own with the limiter on (the shared test app stays unlimited; see test_auth).
    The limit is checked before the guard, so anonymous posts show it without any data."""
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    limited = create_app(make_test_config(tmp_path, RATELIMIT_ENABLED=True, ESCALATION_REQUEST_RATE_LIMIT="2 per hour"))
    try:
        client = limited.test_client()
        statuses = [client.post("/cases/CB-1/escalate", data={"escalate-reason": "x"}).status_code for _ in range(3)]
    finally:
        limiter.reset()
        with limited.app_context():
            db.engine.dispose()
    assert statuses == [302, 302, 429]


# --- the board ----------------------------------------------------------------------------------


def test_board_sorts_by_urgency_and_flags_late_level_2(client_as, world):
    now = utcnow()
    strategic = factories.make_account(name="Big Co", tier=Tier.STRATEGIC)
    sol = factories.make_user(role=Role.CUSTOMER, account=strategic)
    cases = {
        name: factories.make_case(requester=sol, subject=f"Case {name}") for name in ("ack1", "old2", "new1", "new2")
    }
    esc = {}
    for name, case in cases.items():
        level = 2 if name.endswith("2") else 1
        esc[name] = services.raise_escalation(
            case, actor=world.lead, level=level, reason="r", expected_version=case.version
        )
    esc["old2"].raised_at = esc["old2"].created_at = now - timedelta(hours=2)
    services.acknowledge_escalation(esc["ack1"], actor=world.lead, expected_version=esc["ack1"].version)
    db.session.flush()
    html = client_as(world.executive).get("/escalations").get_data(as_text=True)
    order = [html.index(f"Case {name}") for name in ("old2", "new2", "new1", "ack1")]
    assert order == sorted(order)
    assert html.count("Not acknowledged in time") == 1
    assert "Big Co" in html and "Strategic" in html


def test_board_filters_by_level_state_and_reason(client_as, setup):
    client = client_as(setup.lead)
    html = client.get("/escalations?level=2").get_data(as_text=True)
    assert "Level two trouble" in html and "Level one trouble" not in html
    services.close_escalation(setup.l1, actor=setup.lead, expected_version=setup.l1.version)
    html = client.get("/escalations?state=closed").get_data(as_text=True)
    assert "Level one trouble" in html and "Level two trouble" not in html
    html = client.get("/escalations?reason=customer_request").get_data(as_text=True)
    assert "No escalations match" in html
    assert client.get("/escalations?level=7").status_code == 400


def test_board_paginates_by_keyset(client_as, app, world):
    app.config["PAGE_SIZE"] = 2
    try:
        for n in range(5):
            case = factories.make_case(requester=world.alice, subject=f"Paged {n}")
            services.raise_escalation(case, actor=world.lead, level=1, reason="r", expected_version=case.version)
        client = client_as(world.lead)
        seen, url = [], "/escalations"
        while url:
            page = services.fetch_board_page(
                world.lead, services.BoardFilters(), cursor=url if url != "/escalations" else None, per_page=2
            )
            seen += [e.case.subject for e in page.items]
            url = page.next_cursor
        assert sorted(seen) == [f"Paged {n}" for n in range(5)]
        html = client.get("/escalations").get_data(as_text=True)
        assert 'rel="next">More »</a>' in html and "« Most urgent" not in html
        following = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
        assert "« Most urgent</a>" in client.get(following).get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = 25


@contextmanager
def count_statements():
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_board_issues_the_same_number_of_statements_for_2_and_20_rows(client_as, world):
    client = client_as(world.executive)

    def statements_for(count):
        for _ in range(count * 2):
            manager = factories.make_user(role=Role.ACCOUNT_MANAGER)
            account = factories.make_account(manager=manager)
            person = factories.make_user(role=Role.CUSTOMER, account=account)
            case = factories.make_case(requester=person, severity=Severity.HIGH)
            escalation = services.raise_escalation(
                case, actor=world.lead, level=2, reason="r", expected_version=case.version
            )
            services.take_ownership(escalation, actor=world.executive, expected_version=escalation.version)
        db.session.commit()
        with count_statements() as statements:
            assert client.get("/escalations").status_code == 200
        return len(statements)

    assert statements_for(1) == statements_for(9)
