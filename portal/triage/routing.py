"""Who handles a case: the one place for routing rules (pure: no database access).

Fallback order for a new case:
  1. the account's manager, when that person is an active account manager or team lead;
  2. nobody: the case waits in the triage queue, where a team lead or the account's manager
     assigns it, helped by `suggest_assignee` (the least-loaded active account manager).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from portal.models import Role, User

ASSIGNABLE_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD})


def is_assignable(user: User | None) -> bool:
    """Only active account managers and team leads can own a case."""
    return user is not None and user.active and user.role in ASSIGNABLE_ROLES


def route_new_case(account_manager: User | None) -> User | None:
    """The assignee for a new case of an account managed by `account_manager`, or None for triage."""
    return account_manager if is_assignable(account_manager) else None


def suggest_assignee(candidates: Iterable[User], open_load: Mapping[int, int]) -> User | None:
    """The active account manager with the fewest open cases (`open_load` by user id; missing = 0).

    Ties go to the lower user id, so the suggestion is stable from one page view to the next.
    """
    managers = [u for u in candidates if u.active and u.role == Role.ACCOUNT_MANAGER]
    if not managers:
        return None
    return min(managers, key=lambda u: (open_load.get(u.id, 0), u.id))
