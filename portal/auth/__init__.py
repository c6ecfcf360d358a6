"""Sign-in, sign-out, lockout and the permissions policy."""

from portal.auth.routes import bp

__all__ = ["bp"]
