"""People's own settings: name and time zone."""

from portal.users.routes import bp

__all__ = ["bp"]
