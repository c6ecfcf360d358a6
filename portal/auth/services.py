"""Accounts of people: password hashing, authentication with lockout, and creating users."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models import Account, Role, User
from portal.models.base import utcnow
from portal.services import ServiceError

MIN_PASSWORD_LENGTH = 10
# Checked against when the e-mail is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    """scrypt with a random salt (Werkzeug's default)."""
    return generate_password_hash(password)


def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def authenticate(
    email: str, password: str, *, max_failures: int, lockout: timedelta, now: datetime | None = None
) -> User | None:
    """The active user with this e-mail and password, or None.

    Every way of failing returns None, so the page can only ever say "invalid e-mail or password".
    After `max_failures` wrong passwords in a row the user is locked for `lockout`; while locked,
    even the right password fails. A success clears the counter and records the sign-in time.
    """
    now = now or utcnow()
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.active or user.password_hash is None or is_locked(user, now):
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        # Counted by the database, not in Python: concurrent wrong guesses must each count, or an
        # attacker sending them in parallel would never reach the lockout. The UPDATE locks the row,
        # and reading the attribute back after the flush returns the counter as stored.
        user.failed_logins = User.failed_logins + 1
        db.session.flush()
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
        db.session.flush()
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.flush()
    return user


def create_user(
    *,
    email: str,
    name: str,
    role: Role,
    password: str | None = None,
    account: Account | None = None,
    timezone: str = "Europe/London",
) -> User:
    """Create a user. Customers must belong to an account; staff must not."""
    if find_user_by_email(email) is not None:
        raise ServiceError("A user with this e-mail address already exists.", field="email")
    if role == Role.CUSTOMER and account is None:
        raise ServiceError("A customer must belong to an account.", field="account")
    if role != Role.CUSTOMER and account is not None:
        raise ServiceError("Only customers belong to an account.", field="account")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        account=account,
        timezone=timezone,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    return user
