"""Changes people make to their own profile."""

from zoneinfo import available_timezones

from portal.extensions import db
from portal.models import User
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
