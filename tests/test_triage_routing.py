"""Routing rules, without a database."""

from portal.models import Role, User
from portal.triage.routing import is_assignable, route_new_case, suggest_assignee


def person(user_id, role=Role.ACCOUNT_MANAGER, active=True):
    return User(id=user_id, role=role, active=active, email=f"u{user_id}@example.com", name=f"U{user_id}")


def test_new_case_goes_to_the_active_account_manager():
    manager = person(1)
    assert route_new_case(manager) is manager


def test_new_case_waits_for_triage_when_the_manager_is_inactive_or_missing():
    assert route_new_case(person(1, active=False)) is None
    assert route_new_case(None) is None


def test_customers_and_executives_cannot_be_assigned():
    assert not is_assignable(person(1, role=Role.CUSTOMER))
    assert not is_assignable(person(2, role=Role.EXECUTIVE))
    assert not is_assignable(person(3, role=Role.ADMIN))
    assert is_assignable(person(4, role=Role.TEAM_LEAD))


def test_suggestion_is_the_least_loaded_active_manager_with_stable_ties():
    busy, idle, inactive, also_idle = person(1), person(2), person(3, active=False), person(4)
    lead = person(5, role=Role.TEAM_LEAD)
    load = {1: 7, 2: 1, 3: 0, 4: 1, 5: 0}
    assert suggest_assignee([busy, idle, inactive, also_idle, lead], load) is idle
    assert suggest_assignee([busy], {}) is busy
    assert suggest_assignee([inactive, lead], load) is None
