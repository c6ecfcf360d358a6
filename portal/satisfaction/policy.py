"""Who may rate a case. Kept here until the lead moves it into `portal.auth.policy` (see the report).

A case the user may not see is a 404 (`policy.fetch_visible_case`); these predicates answer the
403 question for a visible case.
"""

from portal.auth.policy import can_view_case
from portal.models import Case, Role, User


def can_rate_case(user: User, case: Case) -> bool:
    """Rate (or change a rating of) a case: the customers who can see it. Never staff.

    Whether the case is resolved yet, and whether the 7-day window is still open, are the
    service's business (a clear 409), not a permission.
    """
    return user.active and user.role == Role.CUSTOMER and can_view_case(user, case)
