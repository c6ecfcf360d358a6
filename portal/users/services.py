"""Changes people make to their own profile and notification preferences."""

from collections.abc import Iterable
from zoneinfo import available_timezones

import sqlalchemy as sa

from portal.extensions import db
from portal.models import NotificationKind, NotificationOptOut, User
from portal.notifications import preferences
from portal.services import ServiceError


def update_profile(user: User, *, name: str, timezone: str) -> User:
    """Set the display name and the time zone every date is shown in. Unknown zones are refused."""
    name = name.strip()
    if not name:
        raise ServiceError("Enter your name.", field="name")
    if timezone not in available_timezones():
        raise ServiceError("Choose a time zone from the list.", field="timezone")
    user.name = name
    user.timezone = timezone
    db.session.flush()
    return user


def update_notification_preferences(user: User, *, enabled: Iterable[NotificationKind]) -> User:
    """Switch on exactly the kinds in `enabled` of those `user`'s role receives; the others off.

    Kinds the role does not receive are ignored, and security mails (invitation, password reset)
    are not preferences at all: they are always sent.
    """
    offered = set(preferences.kinds_for(user))
    wanted_off = offered - set(enabled)
    current = preferences.fetch_opt_outs(user)
    for kind in current - wanted_off:
        db.session.execute(
            sa.delete(NotificationOptOut).where(NotificationOptOut.user_id == user.id, NotificationOptOut.kind == kind)
        )
    for kind in sorted(wanted_off - current):
        db.session.add(NotificationOptOut(user_id=user.id, kind=kind))
    db.session.flush()
    return user
