"""Route guards. Every endpoint declares one; tests/test_route_guards.py fails on any that does not."""

from functools import wraps

from flask_login import current_user
from werkzeug.exceptions import Forbidden

from portal.extensions import login_manager
from portal.models import Role

ALL_ROLES = tuple(Role)
STAFF = (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.EXECUTIVE, Role.ADMIN)


def public(view):
    """Mark a view as deliberately open to anyone, signed in or not."""
    view.guard = "public"
    return view


def roles_required(*roles: Role):
    """Allow only signed-in, active users whose role is one of `roles`.

    Anonymous users are sent to sign in; signed-in users of another role get 403. Whether a
    particular case is visible is the policy's business, checked inside the view.
    """
    allowed = frozenset(roles)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapped.guard = ("roles", allowed)
        return wrapped

    return decorator


signed_in = roles_required(*ALL_ROLES)
