"""The permissions policy without HTTP: `visible_cases(user)` and every `can_*` predicate, per role."""

import secrets
from types import SimpleNamespace

import pytest
from werkzeug.exceptions import Forbidden, NotFound

from portal.auth import policy
from portal.extensions import db
from portal.models import Attachment, Case, EventType, Role, Status
from tests import factories

ROLE_USERS = ["alice", "bob", "manager_a", "manager_b", "lead", "executive", "admin"]


@pytest.fixture
def setup(world):
    """`world` plus cases in every position a rule cares about, and one restricted account.

    Account A: a1 (alice, open), a2 (anna, open), closed_a (alice, closed), escalated_a (alice, level 1).
    Account B: b1 (bob), b_assigned (bob, assigned to manager_a, who does not manage B).
    Account R restricts each customer to their own cases: r1 (rita), r2 (rob).
    """
    w = world
    restricted = factories.make_account(name="Restricted Co", restrict_to_requester=True)
    w.rita = factories.make_user(role=Role.CUSTOMER, account=restricted, name="Rita")
    w.rob = factories.make_user(role=Role.CUSTOMER, account=restricted, name="Rob")
    cases = SimpleNamespace(
        a1=factories.make_case(requester=w.alice),
        a2=factories.make_case(requester=w.anna),
        closed_a=factories.make_case(requester=w.alice, status=Status.CLOSED),
        escalated_a=factories.make_case(requester=w.alice, escalation_level=1),
        b1=factories.make_case(requester=w.bob),
        b_assigned=factories.make_case(requester=w.bob, assignee=w.manager_a),
        r1=factories.make_case(requester=w.rita),
        r2=factories.make_case(requester=w.rob),
    )
    public_event = factories.add_event(cases.a1, actor=w.alice, body="Screenshot attached")
    note = factories.add_event(cases.a1, actor=w.manager_a, type=EventType.INTERNAL_NOTE, body="Old plan")
    w.public_attachment = _attachment(public_event, uploader=w.alice)
    w.internal_attachment = _attachment(note, uploader=w.manager_a)
    w.cases = cases
    return w


def _attachment(event, *, uploader):
    attachment = Attachment(
        case=event.case,
        event=event,
        uploaded_by_id=uploader.id,
        filename="file.txt",
        content_type="text/plain",
        size=5,
        storage_key=secrets.token_hex(20),
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def visible(user) -> set[int]:
    return set(db.session.scalars(policy.visible_cases(user).with_only_columns(Case.id)))


def ids(setup, *names) -> set[int]:
    return {getattr(setup.cases, name).id for name in names}


ACCOUNT_A = ("a1", "a2", "closed_a", "escalated_a")
ACCOUNT_B = ("b1", "b_assigned")
EVERY_CASE = (*ACCOUNT_A, *ACCOUNT_B, "r1", "r2")


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("alice", ACCOUNT_A),
        ("anna", ACCOUNT_A),
        ("bob", ACCOUNT_B),
        ("rita", ("r1",)),
        ("rob", ("r2",)),
        ("manager_a", (*ACCOUNT_A, "b_assigned")),
        ("manager_b", ACCOUNT_B),
        ("lead", EVERY_CASE),
        ("executive", EVERY_CASE),
        ("admin", EVERY_CASE),
    ],
)
def test_visible_cases_per_role(setup, user, expected):
    assert visible(getattr(setup, user)) == ids(setup, *expected)


def test_can_view_case_agrees_with_visible_cases(setup):
    for name in [*ROLE_USERS, "anna", "rita", "rob"]:
        user = getattr(setup, name)
        shown = visible(user)
        for case_name in EVERY_CASE:
            case = getattr(setup.cases, case_name)
            assert policy.can_view_case(user, case) == (case.id in shown), (name, case_name)


def test_sees_every_case_exactly_when_visible_cases_limits_nothing(setup):
    """Queries may leave the visibility condition out when `sees_every_case` says so: it must never
    say so for someone `visible_cases` limits."""
    for name in [*ROLE_USERS, "anna", "rita", "rob"]:
        user = getattr(setup, name)
        assert policy.sees_every_case(user) == (visible(user) == ids(setup, *EVERY_CASE)), name
        user.active = False
        assert not policy.sees_every_case(user), name
        user.active = True


@pytest.mark.parametrize("name", [*ROLE_USERS, "rita"])
def test_inactive_users_see_nothing_and_may_do_nothing(setup, name):
    user = getattr(setup, name)
    user.active = False
    db.session.flush()
    assert visible(user) == set()
    user_only = (
        policy.can_submit_case,
        policy.can_use_saved_replies,
        policy.can_manage_saved_replies,
        policy.can_see_reports,
    )
    for predicate in user_only:
        assert not predicate(user), predicate.__name__
    for case_name in EVERY_CASE:
        case = getattr(setup.cases, case_name)
        for predicate in policy.TEMPLATE_PREDICATES.values():
            if predicate not in user_only:
                assert not predicate(user, case), (predicate.__name__, case_name)
    assert not policy.can_download_attachment(user, setup.public_attachment)
    assert not policy.can_download_attachment(user, setup.internal_attachment)


# (user, case, expected) for each predicate. The cases are described on the `setup` fixture.
PREDICATE_TABLE = {
    "can_see_internal": [
        ("alice", "a1", False),
        ("bob", "b1", False),
        ("manager_a", "a1", True),
        ("manager_a", "b_assigned", True),
        ("manager_a", "b1", False),
        ("manager_b", "a1", False),
        ("lead", "r1", True),
        ("executive", "a1", True),
        ("admin", "a1", True),
    ],
    "can_reply": [
        ("alice", "a1", True),
        ("alice", "a2", True),
        ("alice", "closed_a", False),
        ("bob", "a1", False),
        ("rita", "r2", False),
        ("manager_a", "a1", True),
        ("manager_a", "b_assigned", True),
        ("manager_a", "b1", False),
        ("manager_b", "a1", False),
        ("lead", "a1", True),
        ("lead", "closed_a", False),
        ("executive", "a1", False),
        ("executive", "escalated_a", True),
        ("admin", "a1", False),
        ("admin", "escalated_a", False),
    ],
    "can_write_note": [
        ("alice", "a1", False),
        ("manager_a", "a1", True),
        ("manager_a", "b_assigned", True),
        ("manager_a", "b1", False),
        ("manager_b", "a1", False),
        ("lead", "a1", True),
        ("executive", "a1", True),
        ("admin", "a1", False),
    ],
    "can_triage": [
        ("alice", "a1", False),
        ("manager_a", "a1", True),
        ("manager_a", "b_assigned", False),  # assigned, but not one of manager_a's accounts
        ("manager_b", "b_assigned", True),
        ("manager_b", "a1", False),
        ("lead", "r1", True),
        ("executive", "a1", False),
        ("admin", "a1", False),
    ],
    "can_work_case": [
        ("alice", "a1", False),
        ("manager_a", "a1", True),
        ("manager_a", "b_assigned", True),
        ("manager_a", "b1", False),
        ("manager_b", "a1", False),
        ("lead", "b1", True),
        ("executive", "a1", False),
        ("admin", "a1", False),
    ],
    "can_reopen": [
        ("alice", "a1", True),
        ("alice", "a2", True),  # a colleague's case in the same account
        ("bob", "a1", False),
        ("rita", "r2", False),
        ("rita", "r1", True),
        ("manager_a", "a1", True),
        ("manager_a", "b_assigned", True),
        ("manager_b", "a1", False),
        ("lead", "a1", True),
        ("executive", "a1", False),
        ("admin", "a1", False),
    ],
}
PREDICATE_CASES = [
    pytest.param(predicate, user, case, expected, id=f"{predicate}-{user}-{case}")
    for predicate, rows in PREDICATE_TABLE.items()
    for user, case, expected in rows
]


@pytest.mark.parametrize(("predicate", "user", "case", "expected"), PREDICATE_CASES)
def test_case_predicates_per_role(setup, predicate, user, case, expected):
    check = getattr(policy, predicate)
    assert check(getattr(setup, user), getattr(setup.cases, case)) is expected


def test_confirming_a_resolution_follows_the_reopen_rule(setup):
    assert policy.can_confirm_resolution is policy.can_reopen


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("alice", True),
        ("rita", True),
        ("manager_a", False),
        ("lead", False),
        ("executive", False),
        ("admin", False),
    ],
)
def test_only_customers_submit_cases(setup, user, expected):
    assert policy.can_submit_case(getattr(setup, user)) is expected


@pytest.mark.parametrize(
    ("user", "public", "internal"),
    [
        ("alice", True, False),
        ("anna", True, False),
        ("bob", False, False),
        ("manager_a", True, True),
        ("manager_b", False, False),
        ("lead", True, True),
        ("executive", True, True),
        ("admin", True, True),
    ],
)
def test_attachments_are_visible_exactly_when_their_event_is(setup, user, public, internal):
    user = getattr(setup, user)
    assert policy.can_download_attachment(user, setup.public_attachment) is public
    assert policy.can_download_attachment(user, setup.internal_attachment) is internal


def test_fetch_visible_case_reports_hidden_and_missing_cases_alike(setup):
    assert policy.fetch_visible_case(setup.alice, setup.cases.a2.id) is setup.cases.a2
    with pytest.raises(NotFound):
        policy.fetch_visible_case(setup.alice, setup.cases.b1.id)
    with pytest.raises(NotFound):
        policy.fetch_visible_case(setup.alice, 999_999)


def test_require_twins_raise_404_for_hidden_and_403_for_forbidden(setup):
    policy.require_view_case(setup.alice, setup.cases.a1)
    with pytest.raises(NotFound):
        policy.require_view_case(setup.bob, setup.cases.a1)
    with pytest.raises(NotFound):
        policy.require_download_attachment(setup.alice, setup.internal_attachment)
    policy.require_download_attachment(setup.manager_a, setup.internal_attachment)
    policy.require(True)
    with pytest.raises(Forbidden):
        policy.require(policy.can_reply(setup.admin, setup.cases.a1))


def test_templates_get_the_policy_predicates_themselves(setup):
    for name, predicate in policy.TEMPLATE_PREDICATES.items():
        assert predicate is getattr(policy, name)
