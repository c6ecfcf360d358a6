"""Staff work on a case: routing at submission, assign (one or many), severity/kind/category, waiting
on the customer, resolve, close, reopen, merge, the automatic close, and the "Work on this case" panel.

Every refusal is checked in the database afterwards: a refused action changes nothing.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from portal.cases import services
from portal.extensions import db
from portal.models import Case, CaseEvent, EventType, Kind, Role, Severity, Status, Visibility
from portal.models.base import utcnow
from portal.services import ConflictError, ServiceError
from tests import factories

# --- helpers -------------------------------------------------------------------------------------


def state(case) -> dict:
    """What the database holds for `case` now (read with a fresh query, after any autoflush)."""
    row = db.session.execute(
        sa.select(
            Case.status,
            Case.assignee_id,
            Case.severity,
            Case.kind,
            Case.category,
            Case.version,
            Case.resolution_due_at,
        ).where(Case.id == case.id)
    ).one()
    events = db.session.scalar(sa.select(sa.func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id))
    return {**row._asdict(), "events": events}


def events_of(case, *types) -> list[CaseEvent]:
    query = sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    if types:
        query = query.where(CaseEvent.type.in_(types))
    return list(db.session.scalars(query))


def submit(requester, severity=Severity.HIGH) -> Case:
    return services.submit_case(
        requester=requester,
        kind=Kind.ISSUE,
        category="bug",
        severity=severity,
        subject="Exports fail",
        description="Every export stops half way.",
    )


def page(client, case) -> str:
    return client.get(f"/cases/{case.reference}").get_data(as_text=True)


# --- the policy, checked by the services themselves ----------------------------------------------

SERVICE_ACTIONS = {
    "assign": lambda case, actor, w: services.assign_case(case, w.lead, actor=actor, expected_version=case.version),
    "details": lambda case, actor, w: services.change_case_details(
        case, actor=actor, severity="high", kind="issue", category="billing", reason="x", expected_version=case.version
    ),
    "waiting": lambda case, actor, w: services.set_waiting_on_customer(
        case, actor=actor, message=None, expected_version=case.version
    ),
    "resolve": lambda case, actor, w: services.resolve_case(
        case, actor=actor, summary="Done", expected_version=case.version
    ),
    "close": lambda case, actor, w: services.close_case(case, actor=actor, expected_version=case.version),
    "merge": lambda case, actor, w: services.merge_case(case, w.target, actor=actor, expected_version=case.version),
}


@pytest.mark.parametrize("actor", ["alice", "manager_b", "executive", "admin"])
@pytest.mark.parametrize("action", SERVICE_ACTIONS)
def test_services_refuse_people_the_policy_does_not_allow(world, action, actor):
    case = factories.make_case(requester=world.alice)
    world.target = factories.make_case(requester=world.alice)
    before = state(case), state(world.target)
    with pytest.raises(Forbidden):
        SERVICE_ACTIONS[action](case, getattr(world, actor), world)
    assert (state(case), state(world.target)) == before


# --- routing at submission -----------------------------------------------------------------------


def test_new_case_is_routed_to_the_accounts_active_manager_and_stays_new(world):
    case = submit(world.alice)
    assert case.assignee_id == world.manager_a.id
    assert case.status == Status.NEW
    created, assigned = events_of(case)
    assert created.type == EventType.CREATED
    assert assigned.type == EventType.ASSIGNED
    assert assigned.visibility == Visibility.PUBLIC
    assert assigned.actor_id is None
    assert assigned.data == {"from": None, "to": world.manager_a.id, "to_name": "Maria Manager"}


def test_new_case_waits_in_triage_when_the_manager_is_inactive(world):
    world.manager_a.active = False
    case = submit(world.alice)
    assert case.assignee_id is None
    assert case.status == Status.NEW
    assert events_of(case, EventType.ASSIGNED) == []


def test_new_case_waits_in_triage_when_the_account_has_no_manager(world):
    customer = factories.make_user(role=Role.CUSTOMER, account=factories.make_account(manager=None))
    case = submit(customer)
    assert case.assignee_id is None
    assert events_of(case, EventType.ASSIGNED) == []


def test_customer_sees_who_handles_their_new_case(client_as, world):
    client = client_as(world.alice)
    response = client.post(
        "/cases/new",
        data={"kind": "query", "category": "billing", "severity": "low", "subject": "VAT number", "description": "?"},
    )
    assert response.status_code == 302
    case = db.session.scalar(sa.select(Case).order_by(Case.id.desc()))
    html = page(client, case)
    assert "assigned the case to <strong>Maria Manager</strong>" in html


# --- assign --------------------------------------------------------------------------------------


def test_team_lead_assigns_a_new_case_which_opens_it(world):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    services.assign_case(case, world.manager_b, actor=world.lead, expected_version=case.version)
    assert state(case)["assignee_id"] == world.manager_b.id
    assert state(case)["status"] == Status.OPEN
    assigned, opened = events_of(case, EventType.ASSIGNED, EventType.STATUS_CHANGED)
    assert assigned.data == {"from": None, "to": world.manager_b.id, "to_name": "Milo Manager"}
    assert assigned.actor_id == world.lead.id
    assert opened.data == {"from": "new", "to": "open"}


def test_reassigning_an_open_case_records_who_had_it(world):
    case = factories.make_case(requester=world.alice, assignee=world.manager_a)
    services.assign_case(case, world.lead, actor=world.manager_a, expected_version=case.version)
    (assigned,) = events_of(case, EventType.ASSIGNED)
    assert assigned.data["from"] == world.manager_a.id
    assert events_of(case, EventType.STATUS_CHANGED) == []


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("bob", "Bob Customer cannot take cases"),
        ("executive", "Ezra Executive cannot take cases"),
        ("admin", "Ada Admin cannot take cases"),
        ("inactive", "Ivy Inactive is deactivated"),
        ("unknown", "There is no such person"),
    ],
)
def test_case_cannot_be_assigned_to_someone_who_cannot_take_it(world, who, message):
    world.inactive = factories.make_user(role=Role.ACCOUNT_MANAGER, name="Ivy Inactive", active=False)
    world.unknown = None
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    before = state(case)
    with pytest.raises(ServiceError) as refused:
        services.assign_case(case, getattr(world, who), actor=world.lead, expected_version=case.version)
    assert refused.value.field == "assignee"
    assert message in refused.value.message
    assert state(case) == before


def test_assigning_a_case_to_its_current_assignee_is_refused(world):
    case = factories.make_case(requester=world.alice, assignee=world.manager_a)
    before = state(case)
    with pytest.raises(ServiceError, match="already handled by Maria Manager"):
        services.assign_case(case, world.manager_a, actor=world.lead, expected_version=case.version)
    assert state(case) == before


def test_taking_a_routed_case_opens_it_without_a_second_assignment(world):
    case = submit(world.alice)
    services.assign_case(case, world.manager_a, actor=world.manager_a, expected_version=case.version)
    assert state(case)["status"] == Status.OPEN
    assert len(events_of(case, EventType.ASSIGNED)) == 1


def test_closed_case_is_not_reassigned(world):
    case = factories.make_case(requester=world.alice, status=Status.CLOSED)
    before = state(case)
    with pytest.raises(ConflictError, match="closed"):
        services.assign_case(case, world.manager_a, actor=world.lead, expected_version=case.version)
    assert state(case) == before


def test_only_the_accounts_manager_or_a_team_lead_assigns(world):
    case_b = factories.make_case(requester=world.bob, assignee=world.manager_a)
    before = state(case_b)
    # manager_a handles the case but does not manage account B: working it yes, triaging it no.
    with pytest.raises(Forbidden):
        services.assign_case(case_b, world.manager_a, actor=world.manager_a, expected_version=case_b.version)
    with pytest.raises(Forbidden):
        services.assign_case(case_b, world.lead, actor=world.executive, expected_version=case_b.version)
    assert state(case_b) == before


def test_assigning_with_a_stale_version_is_a_conflict(world):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    before = state(case)
    with pytest.raises(ConflictError, match="changed while you were working on it"):
        services.assign_case(case, world.manager_a, actor=world.lead, expected_version=case.version - 1)
    assert state(case) == before


def test_bulk_assignment_assigns_every_case(world):
    first = factories.make_case(requester=world.alice, status=Status.NEW)
    second = factories.make_case(requester=world.bob, status=Status.NEW)
    assert services.assign_cases([first, second], world.manager_b, actor=world.lead) == 2
    for case in (first, second):
        assert state(case)["assignee_id"] == world.manager_b.id
        assert state(case)["status"] == Status.OPEN


def test_bulk_assignment_skips_cases_already_with_that_person(world):
    mine = factories.make_case(requester=world.alice, assignee=world.manager_a)
    new = factories.make_case(requester=world.alice, status=Status.NEW)
    before = state(mine)
    assert services.assign_cases([mine, new], world.manager_a, actor=world.lead) == 1
    assert state(mine) == before


def test_bulk_assignment_is_all_or_nothing_when_a_case_is_closed(world):
    fine = factories.make_case(requester=world.alice, status=Status.NEW)
    closed = factories.make_case(requester=world.alice, status=Status.CLOSED)
    before = state(fine), state(closed)
    with pytest.raises(ConflictError) as refused:
        services.assign_cases([fine, closed], world.manager_a, actor=world.lead)
    assert closed.reference in refused.value.message
    assert "Nothing was changed" in refused.value.message
    assert (state(fine), state(closed)) == before


def test_bulk_assignment_is_all_or_nothing_when_one_case_may_not_be_triaged(world):
    own = factories.make_case(requester=world.alice, status=Status.NEW)
    other = factories.make_case(requester=world.bob, status=Status.NEW, assignee=world.manager_a)
    before = state(own), state(other)
    with pytest.raises(Forbidden):
        services.assign_cases([own, other], world.manager_a, actor=world.manager_a)
    assert (state(own), state(other)) == before


def test_bulk_assignment_to_a_customer_is_refused_and_changes_nothing(world):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    before = state(case)
    with pytest.raises(ServiceError) as refused:
        services.assign_cases([case], world.alice, actor=world.lead)
    assert refused.value.field == "assignee"
    assert state(case) == before


def test_bulk_assignment_of_nothing_is_refused(world):
    with pytest.raises(ServiceError, match="at least one case"):
        services.assign_cases([], world.manager_a, actor=world.lead)


def test_assign_page_flow(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    client = client_as(world.lead)
    response = client.post(
        f"/cases/{case.reference}/assign",
        data={"assign-assignee": str(world.manager_a.id), "assign-version": str(case.version)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "The case has been assigned." in response.get_data(as_text=True)
    assert state(case)["assignee_id"] == world.manager_a.id


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("999999", "There is no such person"),
        ("not-a-number", "There is no such person"),
        ("", "Choose a person."),
    ],
)
def test_assign_page_refuses_unknown_people(client_as, world, value, message):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    before = state(case)
    response = client_as(world.lead).post(
        f"/cases/{case.reference}/assign", data={"assign-assignee": value, "assign-version": str(case.version)}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="assign-assignee-error"' in html
    assert state(case) == before


def test_assign_page_refuses_a_stale_version_with_409_and_offers_the_current_one(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    stale = case.version
    factories.add_event(case, actor=world.alice, body="Any news?")  # someone else changes the case
    before = state(case)
    response = client_as(world.lead).post(
        f"/cases/{case.reference}/assign",
        data={"assign-assignee": str(world.manager_a.id), "assign-version": str(stale)},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "This case changed while you were working on it" in html
    assert f'name="assign-version" type="hidden" value="{before["version"]}"' in html
    assert "Any news?" in html  # the page shows what changed
    assert state(case) == before


def test_action_without_a_version_is_refused(client_as, world):
    case = factories.make_case(requester=world.alice)
    before = state(case)
    response = client_as(world.lead).post(f"/cases/{case.reference}/close", data={})
    assert response.status_code == 400
    assert "did not say which version of the case" in response.get_data(as_text=True)
    assert state(case) == before


# --- severity, kind and category -----------------------------------------------------------------


def test_severity_change_is_public_its_reason_internal_and_the_sla_recomputed(client_as, world):
    case = submit(world.alice, severity=Severity.HIGH)
    due_before = case.resolution_due_at
    services.change_case_details(
        case,
        actor=world.manager_a,
        severity="low",
        kind="issue",
        category="bug",
        reason="Only one user is affected",
        expected_version=case.version,
    )
    assert state(case)["severity"] == Severity.LOW
    assert state(case)["resolution_due_at"] > due_before
    (changed,) = events_of(case, EventType.SEVERITY_CHANGED)
    assert changed.visibility == Visibility.PUBLIC
    assert changed.data == {"from": "high", "to": "low"}
    (note,) = events_of(case, EventType.INTERNAL_NOTE)
    assert note.visibility == Visibility.INTERNAL
    assert note.body == "Reason for changing the severity: Only one user is affected"

    customer_page = page(client_as(world.alice), case)
    assert "changed the severity from <strong>high</strong> to <strong>low</strong>" in customer_page
    assert "Only one user is affected" not in customer_page
    assert "Only one user is affected" in page(client_as(world.manager_a), case)


def test_kind_and_category_change_together_with_one_reason(world):
    case = factories.make_case(requester=world.alice)
    due = case.resolution_due_at
    services.change_case_details(
        case,
        actor=world.lead,
        severity="medium",
        kind="query",
        category="integration",
        reason="It is a question about the API",
        expected_version=case.version,
    )
    assert (state(case)["kind"], state(case)["category"]) == (Kind.QUERY, "integration")
    assert state(case)["resolution_due_at"] == due  # severity unchanged: dues unchanged
    assert [e.type for e in events_of(case)][1:] == [
        EventType.KIND_CHANGED,
        EventType.CATEGORY_CHANGED,
        EventType.INTERNAL_NOTE,
    ]
    assert events_of(case, EventType.CATEGORY_CHANGED)[0].data == {"from": "billing", "to": "integration"}
    assert events_of(case, EventType.INTERNAL_NOTE)[0].body.startswith("Reason for changing the kind and category:")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"severity": "urgent"}, "severity", "Choose a severity from the list."),
        ({"severity": ""}, "severity", "Choose a severity from the list."),
        ({"kind": "complaint"}, "kind", "Choose a kind from the list."),
        ({"category": "gossip"}, "category", "Choose a category from the list."),
        ({"severity": "high", "reason": ""}, "reason", "Give a reason for the change."),
        ({"severity": "high", "reason": "   "}, "reason", "Give a reason for the change."),
        ({}, None, "Nothing to change"),
    ],
)
def test_details_change_refuses_bad_input_and_changes_nothing(world, changes, field, message):
    case = factories.make_case(requester=world.alice)
    before = state(case)
    values = {"severity": "medium", "kind": "issue", "category": "billing", "reason": "Because", **changes}
    with pytest.raises(ServiceError) as refused:
        services.change_case_details(case, actor=world.lead, expected_version=case.version, **values)
    assert refused.value.field == field
    assert message in refused.value.message
    assert state(case) == before


def test_closed_case_details_cannot_change(world):
    case = factories.make_case(requester=world.alice, status=Status.CLOSED)
    before = state(case)
    with pytest.raises(ConflictError):
        services.change_case_details(
            case, actor=world.lead, severity="high", kind="issue", category="billing", reason="x", expected_version=1
        )
    assert state(case) == before


def test_details_page_shows_a_bad_severity_on_its_field(client_as, world):
    case = factories.make_case(requester=world.alice)
    before = state(case)
    response = client_as(world.manager_a).post(
        f"/cases/{case.reference}/details",
        data={
            "details-severity": "apocalyptic",
            "details-kind": "issue",
            "details-category": "billing",
            "details-reason": "Because",
            "details-version": str(case.version),
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="details-severity-error"' in html
    assert "Choose a severity from the list." in html
    assert state(case) == before


# --- waiting on the customer ---------------------------------------------------------------------


def test_waiting_on_customer_posts_the_question_then_pauses_the_clock(world):
    case = factories.make_case(requester=world.alice)
    services.set_waiting_on_customer(
        case, actor=world.manager_a, message="Which browser do you use?", expected_version=case.version
    )
    assert state(case)["status"] == Status.WAITING_ON_CUSTOMER
    reply, waiting = events_of(case)[1:]
    assert (reply.type, reply.visibility, reply.body) == (
        EventType.PUBLIC_REPLY,
        Visibility.PUBLIC,
        "Which browser do you use?",
    )
    assert waiting.data == {"from": "open", "to": "waiting_on_customer"}
    assert case.first_response_at is not None
    assert case.sla_paused_at is not None


def test_waiting_on_customer_without_a_message_only_changes_status(world):
    case = factories.make_case(requester=world.alice)
    services.set_waiting_on_customer(case, actor=world.lead, message="  ", expected_version=case.version)
    assert [e.type for e in events_of(case)] == [EventType.CREATED, EventType.STATUS_CHANGED]
    assert case.first_response_at is None


def test_new_case_cannot_wait_and_its_message_is_not_posted(world):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    before = state(case)
    with pytest.raises(ConflictError, match="new case cannot be moved to waiting on customer"):
        services.set_waiting_on_customer(case, actor=world.lead, message="Question", expected_version=case.version)
    assert state(case) == before


def test_waiting_page_flow(client_as, world):
    case = factories.make_case(requester=world.alice)
    response = client_as(world.manager_a).post(
        f"/cases/{case.reference}/waiting",
        data={"waiting-message": "Can you send a screenshot?", "waiting-version": str(case.version)},
    )
    assert response.status_code == 302
    assert state(case)["status"] == Status.WAITING_ON_CUSTOMER
    assert "Can you send a screenshot?" in page(client_as(world.alice), case)


# --- resolve, close, reopen ----------------------------------------------------------------------


def test_resolution_summary_is_shown_to_the_customer(client_as, world):
    case = factories.make_case(requester=world.alice)
    services.resolve_case(
        case, actor=world.manager_a, summary="Cleared the cache on our side.", expected_version=case.version
    )
    assert state(case)["status"] == Status.RESOLVED
    assert case.resolved_at is not None
    (resolved,) = events_of(case, EventType.STATUS_CHANGED)
    assert (resolved.body, resolved.visibility) == ("Cleared the cache on our side.", Visibility.PUBLIC)
    assert "Cleared the cache on our side." in page(client_as(world.alice), case)


@pytest.mark.parametrize("summary", ["", "   \n "])
def test_resolving_without_a_summary_is_refused(world, summary):
    case = factories.make_case(requester=world.alice)
    before = state(case)
    with pytest.raises(ServiceError) as refused:
        services.resolve_case(case, actor=world.lead, summary=summary, expected_version=case.version)
    assert refused.value.field == "summary"
    assert "Write a resolution summary" in refused.value.message
    assert state(case) == before


def test_resolve_page_refuses_an_empty_summary(client_as, world):
    case = factories.make_case(requester=world.alice)
    before = state(case)
    response = client_as(world.lead).post(
        f"/cases/{case.reference}/resolve", data={"resolve-summary": " ", "resolve-version": str(case.version)}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="resolve-summary-error"' in html
    assert "Write a resolution summary" in html
    assert state(case) == before


def test_resolving_a_closed_case_is_a_conflict(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.CLOSED)
    before = state(case)
    response = client_as(world.lead).post(
        f"/cases/{case.reference}/resolve", data={"resolve-summary": "Done", "resolve-version": str(case.version)}
    )
    assert response.status_code == 409
    assert "A closed case cannot be moved to resolved." in response.get_data(as_text=True)
    assert state(case) == before


def test_staff_close_a_case(client_as, world):
    case = factories.make_case(requester=world.alice)
    response = client_as(world.manager_a).post(
        f"/cases/{case.reference}/close", data={"close-version": str(case.version)}
    )
    assert response.status_code == 302
    assert state(case)["status"] == Status.CLOSED
    assert db.session.get(Case, case.id).closed_at is not None


def test_closing_with_a_stale_version_is_a_conflict(world):
    case = factories.make_case(requester=world.alice)
    before = state(case)
    with pytest.raises(ConflictError):
        services.close_case(case, actor=world.lead, expected_version=case.version + 1)
    assert state(case) == before


def test_staff_reopen_a_resolved_case(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED)
    response = client_as(world.lead).post(
        f"/cases/{case.reference}/reopen", data={"reopen-reason": "Fix did not hold", "reopen-version": case.version}
    )
    assert response.status_code == 302
    case = db.session.get(Case, case.id)
    assert (case.status, case.reopen_count) == (Status.OPEN, 1)


@pytest.mark.parametrize("reason", ["", "  "])
def test_reopening_needs_a_reason(world, reason):
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED)
    before = state(case)
    with pytest.raises(ServiceError) as refused:
        services.reopen_case(case, actor=world.lead, reason=reason, expected_version=case.version)
    assert refused.value.field == "reason"
    assert state(case) == before


def test_staff_reopen_with_a_stale_version_is_a_conflict(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED)
    stale = case.version
    factories.add_event(case, actor=world.manager_a, body="Checking with the customer")
    before = state(case)
    response = client_as(world.lead).post(
        f"/cases/{case.reference}/reopen", data={"reopen-reason": "Fix did not hold", "reopen-version": stale}
    )
    assert response.status_code == 409
    assert state(case) == before


# --- merge ---------------------------------------------------------------------------------------


def test_merge_closes_the_duplicate_and_links_both_ways(client_as, world):
    duplicate = factories.make_case(requester=world.anna, subject="Invoices again")
    target = factories.make_case(requester=world.alice)
    assert services.merge_case(duplicate, target, actor=world.manager_a, expected_version=duplicate.version) is target

    assert state(duplicate)["status"] == Status.CLOSED
    merged, closed = events_of(duplicate, EventType.MERGED, EventType.STATUS_CHANGED)
    assert merged.data == {"into": target.id}
    assert merged.visibility == Visibility.PUBLIC
    assert f"merged into {target.reference}" in merged.body
    assert closed.data == {"from": "open", "to": "closed"}
    (arrived,) = events_of(target, EventType.MERGED)
    assert (arrived.data, arrived.visibility) == ({"from": duplicate.id}, Visibility.PUBLIC)
    assert state(target)["status"] == Status.OPEN

    html = page(client_as(world.anna), duplicate)
    assert f'href="/cases/{target.reference}">{target.reference}</a>' in html
    assert f"merged into {target.reference}" in html


@pytest.mark.parametrize("typed", ["CB-{id}", "cb-{id}", " {id} ", "CB {id}"])
def test_merge_page_accepts_a_reference_however_typed(client_as, world, typed):
    duplicate = factories.make_case(requester=world.alice)
    target = factories.make_case(requester=world.alice)
    response = client_as(world.lead).post(
        f"/cases/{duplicate.reference}/merge",
        data={"merge-target": typed.format(id=target.id), "merge-version": str(duplicate.version)},
    )
    assert response.status_code == 302
    assert state(duplicate)["status"] == Status.CLOSED


@pytest.mark.parametrize(
    ("target_name", "actor_name", "message"),
    [
        ("itself", "lead", "cannot be merged into itself"),
        ("closed", "lead", "is closed. Merge into a case that is still open."),
        ("other_account", "lead", "belongs to another account"),
        ("other_account", "manager_a", "There is no case with that reference that you can see."),
        ("missing", "lead", "There is no case with that reference that you can see."),
    ],
)
def test_merge_refuses_bad_targets_and_changes_nothing(world, target_name, actor_name, message):
    duplicate = factories.make_case(requester=world.alice)
    targets = {
        "itself": duplicate,
        "closed": factories.make_case(requester=world.alice, status=Status.CLOSED),
        "other_account": factories.make_case(requester=world.bob),
        "missing": None,
    }
    target = targets[target_name]
    before = state(duplicate), target and state(target)
    with pytest.raises(ServiceError) as refused:
        services.merge_case(duplicate, target, actor=getattr(world, actor_name), expected_version=duplicate.version)
    assert refused.value.field == "target"
    assert message in refused.value.message
    assert (state(duplicate), target and state(target)) == before


def test_merging_a_closed_case_is_a_conflict(world):
    duplicate = factories.make_case(requester=world.alice, status=Status.CLOSED)
    target = factories.make_case(requester=world.alice)
    before = state(duplicate), state(target)
    with pytest.raises(ConflictError):
        services.merge_case(duplicate, target, actor=world.lead, expected_version=duplicate.version)
    assert (state(duplicate), state(target)) == before


def test_merge_page_refuses_something_that_is_not_a_reference(client_as, world):
    duplicate = factories.make_case(requester=world.alice)
    before = state(duplicate)
    response = client_as(world.lead).post(
        f"/cases/{duplicate.reference}/merge", data={"merge-target": "the other one", "merge-version": "1"}
    )
    assert response.status_code == 400
    assert "Enter a case reference like CB-12." in response.get_data(as_text=True)
    assert state(duplicate) == before


def test_merge_page_hides_cases_of_other_accounts_from_their_non_managers(client_as, world):
    duplicate = factories.make_case(requester=world.alice)
    hidden = factories.make_case(requester=world.bob)
    before = state(duplicate), state(hidden)
    client = client_as(world.manager_a)
    for reference in (hidden.reference, "CB-999999"):
        response = client.post(
            f"/cases/{duplicate.reference}/merge", data={"merge-target": reference, "merge-version": duplicate.version}
        )
        assert response.status_code == 400
        assert "There is no case with that reference that you can see." in response.get_data(as_text=True)
    assert (state(duplicate), state(hidden)) == before


def test_merge_in_a_restricted_account_tells_each_customer_only_what_they_may_see(world):
    restricted = factories.make_account(restrict_to_requester=True, manager=world.manager_a)
    rita = factories.make_user(role=Role.CUSTOMER, account=restricted)
    rob = factories.make_user(role=Role.CUSTOMER, account=restricted)
    duplicate = factories.make_case(requester=rita)
    target = factories.make_case(requester=rob)
    services.merge_case(duplicate, target, actor=world.manager_a, expected_version=duplicate.version)
    (merged,) = events_of(duplicate, EventType.MERGED)
    assert target.reference not in merged.body
    assert merged.visibility == Visibility.PUBLIC
    (arrived,) = events_of(target, EventType.MERGED)
    assert arrived.visibility == Visibility.INTERNAL


# --- automatic close -----------------------------------------------------------------------------


@pytest.fixture
def quiet_cases(world):
    """A resolved case quiet for 8 days, one resolved yesterday, and an open case quiet for 8 days."""
    now = utcnow()
    old = factories.make_case(requester=world.alice, status=Status.RESOLVED, created_at=now - timedelta(days=20))
    recent = factories.make_case(requester=world.alice, status=Status.RESOLVED, created_at=now - timedelta(days=1))
    still_open = factories.make_case(requester=world.alice, created_at=now - timedelta(days=8))
    old.updated_at = now - timedelta(days=8)
    db.session.flush()
    return old, recent, still_open


def test_auto_close_closes_only_resolved_cases_quiet_for_the_days_and_is_idempotent(quiet_cases):
    old, recent, still_open = quiet_cases
    untouched = state(recent), state(still_open)
    assert services.close_stale_resolved_cases(now=utcnow(), days=7) == 1
    assert state(old)["status"] == Status.CLOSED
    (closed,) = events_of(old, EventType.STATUS_CHANGED)
    assert closed.actor_id is None
    assert closed.body == "Closed automatically: resolved with no reply for 7 days."
    assert (state(recent), state(still_open)) == untouched
    assert services.close_stale_resolved_cases(now=utcnow(), days=7) == 0
    assert len(events_of(old, EventType.STATUS_CHANGED)) == 1


def test_auto_close_waits_for_the_configured_days(quiet_cases):
    old = quiet_cases[0]
    assert services.close_stale_resolved_cases(now=utcnow(), days=9) == 0
    assert state(old)["status"] == Status.RESOLVED


def test_auto_close_command_uses_the_configured_days(app, quiet_cases, monkeypatch):
    old, recent, _ = quiet_cases
    runner = app.test_cli_runner()
    monkeypatch.setitem(app.config, "AUTO_CLOSE_DAYS", 10)
    result = runner.invoke(args=["cases", "auto-close"])
    assert result.exit_code == 0, result.output
    assert "Closed 0 resolved case(s) with no activity for 10 days." in result.output
    assert state(old)["status"] == Status.RESOLVED

    result = runner.invoke(args=["cases", "auto-close", "--days", "7"])
    assert "Closed 1 resolved case(s) with no activity for 7 days." in result.output
    assert state(old)["status"] == Status.CLOSED
    assert state(recent)["status"] == Status.RESOLVED
    assert "Closed 0" in runner.invoke(args=["cases", "auto-close", "--days", "7"]).output


def test_auto_close_days_come_from_the_environment(monkeypatch):
    from config import Config

    monkeypatch.setenv("AUTO_CLOSE_DAYS", "3")
    assert Config().AUTO_CLOSE_DAYS == 3
    monkeypatch.delenv("AUTO_CLOSE_DAYS")
    assert Config().AUTO_CLOSE_DAYS == 7


# --- the "Work on this case" panel ---------------------------------------------------------------

ACTION_URLS = ("assign", "details", "waiting", "resolve", "merge", "close")


def action_urls_on(html: str, case) -> set[str]:
    return {name for name in (*ACTION_URLS, "reopen") if f'action="/cases/{case.reference}/{name}"' in html}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("manager_a", set(ACTION_URLS)),
        ("lead", set(ACTION_URLS)),
        ("alice", set()),
        ("executive", set()),
        ("admin", set()),
    ],
)
def test_panel_offers_only_the_actions_the_viewer_may_take(client_as, world, user, expected):
    case = factories.make_case(requester=world.alice)
    html = page(client_as(getattr(world, user)), case)
    assert action_urls_on(html, case) == expected
    assert ("Work on this case" in html) is bool(expected)


def test_panel_for_a_case_handled_outside_ones_accounts_offers_work_but_not_triage(client_as, world):
    case = factories.make_case(requester=world.bob, assignee=world.manager_a)
    html = page(client_as(world.manager_a), case)
    assert action_urls_on(html, case) == {"waiting", "resolve", "merge", "close"}


def test_panel_for_a_resolved_case_offers_reopen_merge_and_close(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED)
    html = page(client_as(world.lead), case)
    assert action_urls_on(html, case) == {"assign", "details", "reopen", "merge", "close"}
    assert "Is this solved?" not in html  # the customer's question, not staff's


def test_panel_for_a_new_case_cannot_wait_yet(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    html = page(client_as(world.manager_a), case)
    assert "waiting" not in action_urls_on(html, case)
    assert "Assigning it (to yourself too) takes it out of triage" in html


def test_closed_case_has_no_panel(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.CLOSED)
    html = page(client_as(world.lead), case)
    assert "Work on this case" not in html


def test_panel_forms_carry_the_current_version_and_no_inline_script_or_style(client_as, world):
    case = factories.make_case(requester=world.alice)
    factories.add_event(case, actor=world.alice)
    html = page(client_as(world.lead), case)
    for name in ACTION_URLS:
        assert f'name="{name}-version" type="hidden" value="{case.version}"' in html
    assert "<script" not in html
    assert "style=" not in html
    assert "<details" in html and "<summary>Assign</summary>" in html


def test_assign_select_lists_assignable_staff_with_their_load_and_suggests_the_least_loaded(client_as, world):
    busy = world.manager_a
    for _ in range(2):
        factories.make_case(requester=world.alice, assignee=busy)
    factories.make_case(requester=world.bob, assignee=world.manager_b)
    idle = factories.make_user(role=Role.ACCOUNT_MANAGER, name="Ines Idle")
    factories.make_user(role=Role.ACCOUNT_MANAGER, name="Otto Offline", active=False)
    case = factories.make_case(requester=world.alice, status=Status.NEW)

    html = page(client_as(world.lead), case)
    assert f'<option selected value="{idle.id}">Ines Idle — account manager, 0 open (suggested' in html
    assert "Maria Manager — account manager, 2 open</option>" in html
    assert "Milo Manager — account manager, 1 open</option>" in html
    assert "Tess Lead — team lead, 0 open</option>" in html
    for absent in ("Otto Offline", "Alice Customer —", "Ezra Executive", "Ada Admin"):
        assert absent not in html


def test_open_case_counts_per_person_take_one_grouped_query(world):
    for n in range(5):
        person = factories.make_user(role=Role.ACCOUNT_MANAGER, name=f"Manager {n}")
        factories.make_case(requester=world.alice, assignee=person)
    factories.make_case(requester=world.alice, assignee=world.lead, status=Status.CLOSED)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        choices = services.fetch_assignment_choices()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2
    assert len(choices.people) == 8  # 2 + 5 managers and the lead
    assert sum(choices.open_load.values()) == 5  # the closed case does not count
    assert world.lead.id not in choices.open_load
