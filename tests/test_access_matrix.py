"""Who may do what, through HTTP: a role x endpoint matrix for the case pages (DESIGN.md §4).

A case the user may not see answers 404, so references and attachment ids cannot be probed;
a visible case with a forbidden action answers 403; so does a route the role may not use at all.
"""

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from portal.cases import services
from portal.cases.attachments import Upload
from portal.extensions import db
from portal.models import Case, CaseEvent, Role, Status
from tests import factories

CUSTOMERS_A = ("alice", "anna")
EVERYONE = ("alice", "anna", "bob", "manager_a", "manager_b", "lead", "executive", "admin")
STAFF = ("manager_a", "manager_b", "lead", "executive", "admin")
NEW_CASE = {
    "kind": "query",
    "category": "billing",
    "severity": "low",
    "subject": "Where is my invoice?",
    "description": "March is missing.",
}


@pytest.fixture
def setup(world):
    """`world` plus, in account A: `open_a` (alice's, open, not escalated) with a public reply
    carrying `public_attachment` and an internal note carrying `internal_attachment`,
    `resolved_a`, and `other_a` (anna's, open: a merge target); in account B: `open_b` (bob's)
    with its own attachment."""
    w = world
    w.open_a = factories.make_case(requester=w.alice, subject="Invoices will not download")
    w.resolved_a = factories.make_case(requester=w.alice, status=Status.RESOLVED, subject="Export fixed")
    w.other_a = factories.make_case(requester=w.anna, subject="Invoice PDF is blank")
    w.open_b = factories.make_case(requester=w.bob, subject="Bravo private trouble")
    reply = services.reply_to_case(
        w.open_a, author=w.alice, body="Here is the log", uploads=[Upload("client.log", "text/plain", b"log")]
    )
    note = services.add_internal_note(
        w.open_a,
        author=w.manager_a,
        body="Customer is on the legacy plan",
        uploads=[Upload("pricing-internal.txt", "text/plain", b"discount 40%")],
    )
    reply_b = services.reply_to_case(
        w.open_b, author=w.bob, body="Bravo details", uploads=[Upload("bravo.txt", "text/plain", b"bravo")]
    )
    w.public_attachment = reply.attachments[0]
    w.internal_attachment = note.attachments[0]
    w.attachment_b = reply_b.attachments[0]
    db.session.flush()
    return w


def count_events(case) -> int:
    return db.session.scalar(sa.select(sa.func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id))


def count_cases() -> int:
    return db.session.scalar(sa.select(sa.func.count(Case.id)))


@dataclass(frozen=True)
class Endpoint:
    method: str
    url: str  # formatted with the setup's attributes
    data: dict | None = None
    target: str | None = None  # the case whose timeline a successful POST adds to

    def path(self, setup) -> str:
        return self.url.format(**vars(setup))

    def form(self, setup) -> dict | None:
        """The POST data, its "{...}" values filled from the setup (such as a case's version)."""
        if self.data is None:
            return None
        return {key: value.format(**vars(setup)) for key, value in self.data.items()}

    def changes(self, setup) -> int:
        """What a successful POST changes: the target's events, or the number of cases."""
        return count_events(getattr(setup, self.target)) if self.target else count_cases()


ENDPOINTS = {
    "list": Endpoint("GET", "/cases"),
    "new-form": Endpoint("GET", "/cases/new"),
    "new-submit": Endpoint("POST", "/cases/new", NEW_CASE),
    "detail": Endpoint("GET", "/cases/{open_a.reference}"),
    "submitted": Endpoint("GET", "/cases/{open_a.reference}/submitted"),
    "reply": Endpoint("POST", "/cases/{open_a.reference}/reply", {"body": "An answer"}, "open_a"),
    "note": Endpoint("POST", "/cases/{open_a.reference}/note", {"note-body": "A note"}, "open_a"),
    "confirm": Endpoint("POST", "/cases/{resolved_a.reference}/confirm", {}, "resolved_a"),
    "reopen": Endpoint("POST", "/cases/{resolved_a.reference}/reopen", {"reopen-reason": "Broken again"}, "resolved_a"),
    "assign": Endpoint(
        "POST",
        "/cases/{open_a.reference}/assign",
        {"assign-assignee": "{lead.id}", "assign-version": "{open_a.version}"},
        "open_a",
    ),
    "details": Endpoint(
        "POST",
        "/cases/{open_a.reference}/details",
        {
            "details-severity": "high",
            "details-kind": "issue",
            "details-category": "billing",
            "details-reason": "Blocks month end",
            "details-version": "{open_a.version}",
        },
        "open_a",
    ),
    "waiting": Endpoint("POST", "/cases/{open_a.reference}/waiting", {"waiting-version": "{open_a.version}"}, "open_a"),
    "resolve": Endpoint(
        "POST",
        "/cases/{open_a.reference}/resolve",
        {"resolve-summary": "Fixed the export", "resolve-version": "{open_a.version}"},
        "open_a",
    ),
    "close": Endpoint("POST", "/cases/{open_a.reference}/close", {"close-version": "{open_a.version}"}, "open_a"),
    "merge": Endpoint(
        "POST",
        "/cases/{open_a.reference}/merge",
        {"merge-target": "{other_a.reference}", "merge-version": "{open_a.version}"},
        "open_a",
    ),
    "public-attachment": Endpoint("GET", "/attachments/{public_attachment.id}"),
    "internal-attachment": Endpoint("GET", "/attachments/{internal_attachment.id}"),
}


def expect(default, **overrides):
    return {user: overrides.get(user, default) for user in EVERYONE}


# endpoint -> {user: status}. 200/302 mean allowed (a page, or a redirect after a successful POST).
MATRIX = {
    "list": expect(200),
    "new-form": expect(403, alice=200, anna=200, bob=200),
    "new-submit": expect(403, alice=302, anna=302, bob=302),
    "detail": expect(200, bob=404, manager_b=404),
    "submitted": expect(403, alice=200, anna=200, bob=404),
    "reply": expect(302, bob=404, manager_b=404, executive=403, admin=403),
    "note": expect(403, manager_a=302, manager_b=404, lead=302, executive=302),
    "confirm": expect(302, bob=404, manager_b=404, executive=403, admin=403),
    "reopen": expect(302, bob=404, manager_b=404, executive=403, admin=403),
    # Staff actions: the account's manager and team leads; other roles never reach them (403).
    **{
        action: expect(403, manager_a=302, manager_b=404, lead=302)
        for action in ("assign", "details", "waiting", "resolve", "close", "merge")
    },
    "public-attachment": expect(200, bob=404, manager_b=404),
    "internal-attachment": expect(200, alice=404, anna=404, bob=404, manager_b=404),
}
MATRIX_CASES = [
    pytest.param(endpoint, user, status, id=f"{endpoint}-{user}-{status}")
    for endpoint, row in MATRIX.items()
    for user, status in row.items()
]


@pytest.mark.parametrize(("endpoint", "user", "status"), MATRIX_CASES)
def test_role_endpoint_matrix(client_as, setup, endpoint, user, status):
    endpoint = ENDPOINTS[endpoint]
    before = endpoint.changes(setup) if endpoint.method == "POST" else None
    response = client_as(getattr(setup, user)).open(
        endpoint.path(setup), method=endpoint.method, data=endpoint.form(setup)
    )
    assert response.status_code == status
    if endpoint.method == "POST":
        # Refused means nothing written; allowed means the action happened.
        assert (endpoint.changes(setup) > before) is (status == 302)


def test_matrix_covers_every_case_endpoint(app):
    case_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("cases.")}
    covered = {"cases." + name for name in ("index", "new", "detail", "submitted", "reply", "note")}
    covered |= {"cases.confirm", "cases.reopen", "cases.download"}
    covered |= {"cases." + name for name in ("assign", "details", "waiting", "resolve", "close", "merge")}
    assert case_endpoints == covered


# --- probing another account ---------------------------------------------------------------------

PROBES = [
    ("GET", "/cases/{ref}"),
    ("GET", "/cases/{ref}/submitted"),
    ("POST", "/cases/{ref}/reply"),
    ("POST", "/cases/{ref}/confirm"),
    ("POST", "/cases/{ref}/reopen"),
]


@pytest.mark.parametrize(("method", "url"), PROBES, ids=[f"{m} {u}" for m, u in PROBES])
def test_customer_gets_404_for_other_accounts_case(client_as, setup, method, url):
    client = client_as(setup.alice)
    data = {"body": "Let me in", "reopen-reason": "Let me in"}
    hidden = client.open(url.format(ref=setup.open_b.reference), method=method, data=data)
    missing = client.open(url.format(ref="CB-999999"), method=method, data=data)
    assert hidden.status_code == 404
    # Hidden and missing cases are indistinguishable, so references cannot be probed.
    assert hidden.get_data() == missing.get_data()
    assert setup.open_b.subject not in hidden.get_data(as_text=True)
    assert count_events(setup.open_b) == 2


def test_customer_gets_404_for_other_accounts_attachment(client_as, setup):
    client = client_as(setup.alice)
    hidden = client.get(f"/attachments/{setup.attachment_b.id}")
    missing = client.get("/attachments/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data() == missing.get_data()
    assert "Content-Disposition" not in hidden.headers


def test_customer_list_never_shows_another_accounts_case(client_as, setup):
    html = client_as(setup.alice).get("/cases").get_data(as_text=True)
    assert setup.open_a.subject in html
    assert setup.open_b.subject not in html
    assert setup.open_b.reference not in html


# --- staff scopes --------------------------------------------------------------------------------


def test_account_manager_sees_only_own_accounts_and_assigned_cases(client_as, setup):
    client = client_as(setup.manager_a)
    html = client.get("/cases").get_data(as_text=True)
    assert setup.open_a.subject in html
    assert setup.open_b.subject not in html
    assert client.get(f"/cases/{setup.open_b.reference}").status_code == 404

    setup.open_b.assignee = setup.manager_a
    db.session.flush()
    html = client.get("/cases").get_data(as_text=True)
    assert setup.open_b.subject in html
    assert client.get(f"/cases/{setup.open_b.reference}").status_code == 200
    reply = client.post(f"/cases/{setup.open_b.reference}/reply", data={"body": "On it"})
    assert reply.status_code == 302


def test_admin_may_view_but_not_reply_or_note(client_as, setup):
    client = client_as(setup.admin)
    case = setup.open_a
    page = client.get(f"/cases/{case.reference}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/cases/{case.reference}/reply" not in html
    assert f"/cases/{case.reference}/note" not in html
    before = count_events(case)
    assert client.post(f"/cases/{case.reference}/reply", data={"body": "Hello"}).status_code == 403
    assert client.post(f"/cases/{case.reference}/note", data={"note-body": "Hello"}).status_code == 403
    assert count_events(case) == before


def test_executive_may_reply_only_when_the_case_is_escalated(client_as, setup):
    client = client_as(setup.executive)
    case = setup.open_a
    assert f"/cases/{case.reference}/reply" not in client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert client.post(f"/cases/{case.reference}/reply", data={"body": "Hello"}).status_code == 403

    case.escalation_level = 1
    db.session.flush()
    assert f"/cases/{case.reference}/reply" in client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert client.post(f"/cases/{case.reference}/reply", data={"body": "I am on it"}).status_code == 302


def test_nobody_replies_on_a_closed_case(client_as, setup):
    case = factories.make_case(requester=setup.alice, status=Status.CLOSED)
    for user in (setup.alice, setup.manager_a, setup.lead):
        assert client_as(user).post(f"/cases/{case.reference}/reply", data={"body": "More"}).status_code == 403
    assert count_events(case) == 1


# --- internal notes ------------------------------------------------------------------------------


@pytest.mark.parametrize("customer", CUSTOMERS_A)
def test_customers_never_receive_internal_notes_or_their_attachments(client_as, setup, customer):
    client = client_as(getattr(setup, customer))
    html = client.get(f"/cases/{setup.open_a.reference}").get_data(as_text=True)
    assert "Here is the log" in html
    assert "client.log" in html
    assert "Customer is on the legacy plan" not in html
    assert "pricing-internal.txt" not in html
    assert f"/attachments/{setup.internal_attachment.id}" not in html
    download = client.get(f"/attachments/{setup.internal_attachment.id}")
    assert download.status_code == 404
    assert b"discount" not in download.get_data()


def test_staff_who_see_the_case_read_its_internal_notes(client_as, setup):
    html = client_as(setup.manager_a).get(f"/cases/{setup.open_a.reference}").get_data(as_text=True)
    assert "Customer is on the legacy plan" in html
    assert "pricing-internal.txt" in html
    download = client_as(setup.lead).get(f"/attachments/{setup.internal_attachment.id}")
    assert download.get_data() == b"discount 40%"


# --- an account that restricts customers to their own cases -------------------------------------


def test_customer_of_a_restricted_account_sees_only_own_cases(client_as, setup):
    restricted = factories.make_account(name="Private Ltd", restrict_to_requester=True)
    rita = factories.make_user(role=Role.CUSTOMER, account=restricted)
    rob = factories.make_user(role=Role.CUSTOMER, account=restricted)
    ritas = factories.make_case(requester=rita, subject="Rita own question")
    robs = factories.make_case(requester=rob, subject="Rob own question")
    robs_reply = services.reply_to_case(robs, author=rob, body="x", uploads=[Upload("rob.txt", "text/plain", b"r")])
    db.session.flush()

    client = client_as(rita)
    html = client.get("/cases").get_data(as_text=True)
    assert ritas.subject in html
    assert robs.subject not in html
    assert client.get(f"/cases/{ritas.reference}").status_code == 200
    assert client.get(f"/cases/{robs.reference}").status_code == 404
    assert client.post(f"/cases/{robs.reference}/reply", data={"body": "hi"}).status_code == 404
    assert client.get(f"/attachments/{robs_reply.attachments[0].id}").status_code == 404
    # Their account manager still sees both.
    restricted.manager = setup.manager_a
    db.session.flush()
    html = client_as(setup.manager_a).get("/cases").get_data(as_text=True)
    assert ritas.subject in html
    assert robs.subject in html


# --- status rules on the customer's actions (bugs in portal/cases/services.py, reported) ---------


def test_customer_cannot_confirm_a_resolution_that_never_happened(client_as, setup):
    response = client_as(setup.alice).post(f"/cases/{setup.open_a.reference}/confirm")
    assert response.status_code == 409
    assert setup.open_a.status == Status.OPEN


def test_customer_cannot_reopen_a_case_that_is_not_resolved(client_as, setup):
    case = factories.make_case(requester=setup.alice, status=Status.NEW)
    response = client_as(setup.alice).post(f"/cases/{case.reference}/reopen", data={"reopen-reason": "Hurry"})
    assert response.status_code == 409
    assert case.status == Status.NEW
