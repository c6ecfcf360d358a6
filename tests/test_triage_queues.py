"""Staff queues: who sees which queue, filters, search, SLA ordering, paging, counts and workload."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Case, Severity, Status
from portal.models.base import utcnow
from portal.triage import queues
from portal.triage.services import fetch_workload, find_filter_account
from tests import factories


def refs(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [part.split("<")[0] for part in html.split('<span class="ref">')[1:]]


def due_case(requester, *, hours, **fields):
    """An open case whose current SLA target falls due `hours` from now (negative: breached)."""
    due = utcnow() + timedelta(hours=hours)
    return factories.make_case(
        requester=requester,
        status=fields.pop("status", Status.OPEN),
        first_response_due_at=due,
        resolution_due_at=due + timedelta(days=3),
        **fields,
    )


@pytest.fixture
def triage_cases(world):
    return {
        "a_new": factories.make_case(requester=world.alice, status=Status.NEW, subject="Login broken for SSO"),
        "b_new": factories.make_case(requester=world.bob, status=Status.NEW, subject="Export is slow"),
        "a_assigned": factories.make_case(requester=world.anna, status=Status.OPEN, assignee=world.manager_a),
    }


def test_triage_queue_shows_new_unassigned_cases_the_viewer_may_see(client_as, world, triage_cases):
    both = {triage_cases["a_new"].reference, triage_cases["b_new"].reference}
    assert set(refs(client_as(world.lead).get("/work/triage"))) == both
    assert refs(client_as(world.manager_a).get("/work/triage")) == [triage_cases["a_new"].reference]


def test_my_cases_lists_open_cases_assigned_to_me(client_as, world, triage_cases):
    assert refs(client_as(world.manager_a).get("/work/mine")) == [triage_cases["a_assigned"].reference]
    assert refs(client_as(world.manager_b).get("/work/mine")) == []


@pytest.mark.parametrize("role", ["manager_a", "executive", "admin"])
def test_team_queue_is_for_team_leads_only(client_as, world, role):
    assert client_as(getattr(world, role)).get("/work/team").status_code == 404


@pytest.mark.parametrize("role", ["alice", "bob"])
def test_customers_are_refused_every_queue(client_as, world, role):
    for path in ("/work/", "/work/all", "/work/triage", "/work/workload", "/work/accounts?q=Acme"):
        assert client_as(getattr(world, role)).get(path).status_code == 403


def test_workload_is_refused_to_account_managers_and_executives(client_as, world):
    assert client_as(world.manager_a).get("/work/workload").status_code == 403
    assert client_as(world.executive).get("/work/workload").status_code == 403


def test_unknown_queue_is_404(client_as, world):
    assert client_as(world.lead).get("/work/everything").status_code == 404


def test_queue_sorted_by_sla_time_left_with_unclocked_cases_last(client_as, world):
    later = due_case(world.alice, hours=5)
    breached = due_case(world.alice, hours=-2)
    soon = due_case(world.bob, hours=1)
    unclocked = factories.make_case(requester=world.bob, status=Status.OPEN)
    response = client_as(world.lead).get("/work/all")
    assert refs(response) == [breached.reference, soon.reference, later.reference, unclocked.reference]


def test_due_filters_select_breached_and_due_soon_cases(client_as, world):
    breached = due_case(world.alice, hours=-2)
    soon = due_case(world.alice, hours=1)
    due_case(world.alice, hours=30)
    paused = due_case(world.alice, hours=-5, status=Status.WAITING_ON_CUSTOMER, sla_paused_at=utcnow())
    client = client_as(world.lead)
    assert refs(client.get("/work/all?due=breached")) == [breached.reference]
    assert refs(client.get("/work/all?due=due_soon")) == [soon.reference]
    assert paused.reference not in refs(client.get("/work/all?due=breached"))


def test_filters_by_severity_account_and_assignee(client_as, world):
    critical = factories.make_case(requester=world.alice, severity=Severity.CRITICAL, assignee=world.manager_a)
    factories.make_case(requester=world.bob, severity=Severity.LOW)
    client = client_as(world.lead)
    assert refs(client.get("/work/all?severity=critical")) == [critical.reference]
    assert refs(client.get(f"/work/all?account={world.account_a.id}")) == [critical.reference]
    assert refs(client.get(f"/work/all?assignee={world.manager_a.id}")) == [critical.reference]


def test_search_matches_reference_subject_and_description_but_not_wildcards(client_as, world):
    sso = factories.make_case(requester=world.alice, subject="SSO login fails", description="Okta says 403")
    export = factories.make_case(requester=world.bob, subject="Slow export", description="100% CPU on export")
    client = client_as(world.lead)
    assert refs(client.get(f"/work/all?q={sso.reference}")) == [sso.reference]
    assert refs(client.get(f"/work/all?q={export.id}")) == [export.reference]
    assert refs(client.get("/work/all?q=okta")) == [sso.reference]
    assert refs(client.get("/work/all?q=%25")) != refs(client.get("/work/all"))  # % is not a wildcard
    if db.session.get_bind().dialect.name == "postgresql":
        # Full-text search: words, whatever their form, and web-search syntax.
        assert refs(client.get("/work/all?q=exporting")) == [export.reference]
        assert refs(client.get("/work/all?q=login+-okta")) == []
        assert refs(client.get("/work/all?q=%22login+fails%22")) == [sso.reference]
    else:
        # SQLite: a substring match, with LIKE's wildcards taken literally.
        assert refs(client.get("/work/all?q=100%25")) == [export.reference]
        assert refs(client.get("/work/all?q=%25")) == [export.reference]


def test_search_never_reaches_beyond_what_the_viewer_may_see(client_as, world):
    theirs = factories.make_case(requester=world.bob, subject="Bravo secret")
    assert refs(client_as(world.manager_a).get(f"/work/all?q={theirs.reference}")) == []
    assert refs(client_as(world.manager_a).get("/work/all?q=Bravo")) == []


def test_unknown_filter_values_give_400_and_the_unfiltered_queue(client_as, world):
    case = factories.make_case(requester=world.alice)
    response = client_as(world.lead).get("/work/all?severity=apocalyptic&account=abc")
    assert response.status_code == 400
    assert refs(response) == [case.reference]


# --- the account filter: a name box with suggestions ----------------------------------------------


@pytest.mark.parametrize("typed", ["Acme Ltd", "acme ltd", "  ACME LTD "])
def test_account_filter_matches_the_whole_name_in_any_case(client_as, world, typed):
    ours = factories.make_case(requester=world.alice)
    factories.make_case(requester=world.bob)
    response = client_as(world.lead).get("/work/all", query_string={"account_name": typed})
    assert response.status_code == 200
    assert refs(response) == [ours.reference]
    assert 'value="Acme Ltd"' in response.get_data(as_text=True)


def test_account_filter_prefers_the_exact_spelling_when_names_differ_only_in_case(client_as, world):
    shouting = factories.make_account(name="ACME LTD")
    theirs = factories.make_case(requester=factories.make_user(account=shouting))
    factories.make_case(requester=world.alice)
    assert refs(client_as(world.lead).get("/work/all?account_name=ACME+LTD")) == [theirs.reference]


def test_account_filter_does_not_match_part_of_a_name(client_as, world):
    factories.make_case(requester=world.alice)
    assert client_as(world.lead).get("/work/all?account_name=Acme").status_code == 400


def test_unknown_account_name_is_an_error_on_the_field_and_keeps_what_was_typed(client_as, world):
    case = factories.make_case(requester=world.alice)
    response = client_as(world.lead).get("/work/all?account_name=Nobody+%26+Co&severity=low")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<p class="error-message" id="account_name-error">' in html
    assert "No account you can filter by has that name." in html
    assert 'aria-describedby="account_name-error"' in html
    assert 'value="Nobody &amp; Co"' in html
    # As with any unrecognised filter, none is applied.
    assert refs(response) == [case.reference]


def test_account_manager_cannot_filter_by_another_managers_account(client_as, world):
    factories.make_case(requester=world.bob, subject="Bravo private trouble")
    client = client_as(world.manager_a)
    by_name = client.get("/work/all?account_name=Bravo+plc")
    assert by_name.status_code == 400
    assert "No account you can filter by has that name." in by_name.get_data(as_text=True)
    by_id = client.get(f"/work/all?account={world.account_b.id}")
    assert by_id.status_code == 400
    assert "Bravo" not in by_id.get_data(as_text=True)
    # Their own account filters as usual.
    assert client.get("/work/all?account_name=acme+ltd").status_code == 200


def test_account_link_by_id_filters_and_shows_the_accounts_name(client_as, world):
    ours = factories.make_case(requester=world.alice)
    factories.make_case(requester=world.bob)
    response = client_as(world.manager_a).get(f"/work/all?account={world.account_a.id}")
    assert response.status_code == 200
    assert refs(response) == [ours.reference]
    assert 'name="account_name" type="text" value="Acme Ltd"' in response.get_data(as_text=True)


@pytest.mark.parametrize("account", ["abc", "0", "-3", "99999999999999999999", "999999"])
def test_unusable_account_ids_give_400_and_the_unfiltered_queue(client_as, world, account):
    case = factories.make_case(requester=world.alice)
    response = client_as(world.lead).get(f"/work/all?account={account}")
    assert response.status_code == 400
    assert refs(response) == [case.reference]


def test_typed_account_name_wins_over_an_account_id(client_as, world):
    factories.make_case(requester=world.alice)
    theirs = factories.make_case(requester=world.bob)
    response = client_as(world.lead).get(f"/work/all?account={world.account_a.id}&account_name=Bravo+plc")
    assert refs(response) == [theirs.reference]


def test_account_named_exactly_is_found_with_one_statement(world):
    # The exact spelling (what the suggestions fill in) goes through the unique index on the name.
    with count_statements() as statements:
        assert find_filter_account(world.lead, name="Acme Ltd") == world.account_a
    assert len(statements) == 1


def test_queue_page_links_the_account_box_to_its_suggestions(client_as, world):
    html = client_as(world.lead).get("/work/all").get_data(as_text=True)
    assert '<label class="label" for="account_name">Account</label>' in html
    assert 'list="account-suggestions"' in html
    assert 'data-suggest-url="/work/accounts"' in html
    assert '<datalist id="account-suggestions"></datalist>' in html
    assert '<script src="/static/js/account-suggestions.js" defer></script>' in html


def suggestions(client, q):
    response = client.get("/work/accounts", query_string={"q": q})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_account_suggestions_match_part_of_the_name_in_any_case_in_name_order(client_as, world):
    globex = factories.make_account(name="Globex Corporation")
    acmeish = factories.make_account(name="Northern Acme Supplies")
    client = client_as(world.lead)
    assert suggestions(client, "acme") == [
        {"id": world.account_a.id, "name": "Acme Ltd"},
        {"id": acmeish.id, "name": "Northern Acme Supplies"},
    ]
    assert suggestions(client, "CORP") == [{"id": globex.id, "name": "Globex Corporation"}]
    assert suggestions(client, "zzz") == []


def test_account_suggestions_are_at_most_ten(client_as, world):
    for n in range(12):
        factories.make_account(name=f"Zeta {n:02}")
    names = [row["name"] for row in suggestions(client_as(world.executive), "zeta")]
    assert names == [f"Zeta {n:02}" for n in range(10)]


def test_account_suggestions_need_some_text(client_as, world):
    client = client_as(world.lead)
    assert suggestions(client, "") == []
    assert suggestions(client, "   ") == []
    assert client.get("/work/accounts").get_json() == []


def test_account_suggestions_treat_wildcards_literally(client_as, world):
    percent = factories.make_account(name="100% Juice")
    client = client_as(world.lead)
    assert suggestions(client, "%") == [{"id": percent.id, "name": "100% Juice"}]
    assert suggestions(client, "_") == []


def test_account_manager_gets_suggestions_only_for_their_own_accounts(client_as, world):
    second = factories.make_account(name="Bravissimo GmbH", manager=world.manager_a)
    assert suggestions(client_as(world.manager_a), "brav") == [{"id": second.id, "name": "Bravissimo GmbH"}]
    assert suggestions(client_as(world.manager_b), "brav") == [{"id": world.account_b.id, "name": "Bravo plc"}]
    assert suggestions(client_as(world.manager_b), "acme") == []


def test_keyset_paging_by_sla_covers_every_case_once_including_unclocked(app, client_as, world):
    for hours in range(-3, 27):
        due_case(world.alice, hours=hours)
    for _ in range(5):
        factories.make_case(requester=world.alice, status=Status.OPEN)
    client = client_as(world.lead)
    seen, cursor = [], None
    while True:
        response = client.get("/work/all", query_string={"cursor": cursor} if cursor else {})
        seen += refs(response)
        html = response.get_data(as_text=True)
        if 'rel="next"' not in html:
            break
        cursor = html.split('rel="next"')[0].rsplit("cursor=", 1)[1].split('"')[0].split("&")[0]
    assert len(seen) == 35
    assert len(set(seen)) == 35


def test_nav_shows_the_triage_count(client_as, world, triage_cases):
    html = client_as(world.lead).get("/work/mine").get_data(as_text=True)
    assert '<span class="count">2<span class="visually-hidden"> waiting for triage</span>' in html
    assert queues.count_queues(world.manager_a) == {"triage": 1, "mine": 1}


def test_workload_counts_open_due_soon_and_breached_per_person(world):
    due_case(world.alice, hours=-1, assignee=world.manager_a)
    due_case(world.alice, hours=1, assignee=world.manager_a)
    due_case(world.bob, hours=50, assignee=world.manager_b)
    factories.make_case(requester=world.bob, status=Status.CLOSED, assignee=world.manager_b)
    rows = {row.user.id: row for row in fetch_workload(now=utcnow())}
    assert (rows[world.manager_a.id].open, rows[world.manager_a.id].due_soon, rows[world.manager_a.id].breached) == (
        2,
        1,
        1,
    )
    assert (rows[world.manager_b.id].open, rows[world.manager_b.id].breached) == (1, 0)
    assert rows[world.lead.id].open == 0


@contextmanager
def count_statements():
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", ["/work/all", "/work/triage", "/cases"])
def test_list_pages_issue_the_same_number_of_statements_for_2_and_20_rows(client_as, world, path):
    client = client_as(world.lead)

    def statements_for(count):
        for _ in range(count):
            due_case(world.alice, hours=3, status=Status.NEW, assignee=None)
            due_case(world.bob, hours=3, status=Status.NEW, assignee=None)
        db.session.commit()
        with count_statements() as statements:
            assert client.get(path).status_code == 200
        return len(statements)

    few = statements_for(1)
    many = statements_for(9)
    assert few == many


@pytest.mark.parametrize("path", ["/work/all", "/work/triage"])
def test_queue_page_costs_the_same_with_2_and_32_accounts(client_as, world, path):
    due_case(world.alice, hours=3, status=Status.NEW, assignee=None)
    client = client_as(world.lead)

    def page():
        db.session.commit()
        with count_statements() as statements:
            response = client.get(path)
        assert response.status_code == 200
        return len(statements), response.get_data(as_text=True)

    few_statements, few_html = page()
    for n in range(30):
        factories.make_account(name=f"Extra Account {n:02}")
    many_statements, many_html = page()
    assert few_statements == many_statements
    # No account is listed in the page: the filter names one only when asked.
    assert "Extra Account" not in many_html
    assert many_html.count("<option") == few_html.count("<option")


def bulk_assign(client, case_ids, assignee_id, next_path="/work/triage"):
    return client.post(
        "/work/assign", data={"bulk-case_ids": case_ids, "bulk-assignee": assignee_id, "bulk-next": next_path}
    )


def test_team_lead_assigns_several_triage_cases_at_once(client_as, world, triage_cases):
    ids = [triage_cases["a_new"].id, triage_cases["b_new"].id]
    response = bulk_assign(client_as(world.lead), ids, world.manager_b.id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/work/triage")
    for case_id in ids:
        case = db.session.get(Case, case_id)
        assert (case.assignee_id, case.status) == (world.manager_b.id, Status.OPEN)


def test_bulk_assignment_to_a_customer_changes_nothing(client_as, world, triage_cases):
    response = bulk_assign(client_as(world.lead), [triage_cases["a_new"].id], world.alice.id)
    assert response.status_code == 303
    case = db.session.get(Case, triage_cases["a_new"].id)
    assert (case.assignee_id, case.status) == (None, Status.NEW)


def test_bulk_assignment_including_another_accounts_case_is_404_and_changes_nothing(client_as, world, triage_cases):
    ids = [triage_cases["a_new"].id, triage_cases["b_new"].id]
    response = bulk_assign(client_as(world.manager_a), ids, world.manager_a.id)
    assert response.status_code == 404
    assert db.session.get(Case, triage_cases["a_new"].id).assignee_id is None


def test_bulk_assignment_never_redirects_off_site(client_as, world, triage_cases):
    response = bulk_assign(
        client_as(world.lead), [triage_cases["a_new"].id], world.manager_a.id, "https://evil.example/"
    )
    assert response.headers["Location"].endswith("/work/")


@pytest.mark.parametrize("role", ["executive", "admin", "alice"])
def test_bulk_assignment_is_refused_to_other_roles(client_as, world, triage_cases, role):
    response = bulk_assign(client_as(getattr(world, role)), [triage_cases["a_new"].id], world.manager_a.id)
    assert response.status_code == 403
    assert db.session.get(Case, triage_cases["a_new"].id).assignee_id is None


def test_the_stored_next_due_time_follows_every_change_of_the_sla_columns(world):
    """The queues sort on the stored copy of `Case.next_due_at`: it must equal the computed one."""
    now = utcnow()
    case = factories.make_case(
        requester=world.alice,
        status=Status.NEW,
        first_response_due_at=now + timedelta(hours=1),
        resolution_due_at=now + timedelta(hours=8),
    )

    def stored():
        db.session.flush()
        return db.session.scalar(sa.select(Case.next_due_at).where(Case.id == case.id))

    assert stored() == case.next_due_at == now + timedelta(hours=1)
    case.first_response_at = now
    assert stored() == case.next_due_at == now + timedelta(hours=8)
    case.sla_paused_at = now
    assert stored() is None and case.next_due_at is None
    case.sla_paused_at = None
    case.resolution_due_at = now + timedelta(hours=9)
    assert stored() == case.next_due_at == now + timedelta(hours=9)
    case.status = Status.RESOLVED
    assert stored() is None and case.next_due_at is None


def test_a_text_search_lists_the_newest_matches_first_unless_asked_otherwise(client_as, world):
    now = utcnow()
    older = factories.make_case(
        requester=world.alice,
        subject="Invoice wrong",
        created_at=now - timedelta(days=2),
        first_response_due_at=now + timedelta(hours=1),
    )
    newer = factories.make_case(
        requester=world.alice,
        subject="Invoice missing",
        created_at=now - timedelta(days=1),
        first_response_due_at=now + timedelta(hours=5),
    )
    client = client_as(world.lead)
    assert refs(client.get("/work/all?q=invoice")) == [newer.reference, older.reference]
    assert refs(client.get("/work/all?q=invoice&sort=sla")) == [older.reference, newer.reference]
    assert refs(client.get("/work/all")) == [older.reference, newer.reference]  # no search: SLA first
