"""Accounts of people: password hashing, authentication with lockout, creating users, invitations
and password resets."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth import policy, tokens
from portal.extensions import db
from portal.models import Account, Role, User
from portal.models.base import utcnow
from portal.notifications import messages as notify
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


# --- invitations and password resets ------------------------------------------------------------


def fetch_invitable_accounts(user: User) -> list[Account]:
    """The accounts `user` may invite customers to, by name (the policy decides which)."""
    return list(db.session.scalars(policy.invitable_accounts(user).order_by(Account.name)))


def invite_customer(account: Account, *, email: str, name: str, actor: User, now: datetime | None = None) -> User:
    """Create a customer of `account` without a password and queue the invitation to choose one.

    Rules: the actor may invite to this account (`policy.can_invite_to`, 403 otherwise); an address
    that already has an account is refused with a clear message, except a customer of this same
    account who never accepted, who is simply sent a fresh invitation. The link (see
    `portal.auth.tokens`) is single use and valid for INVITATION_DAYS.
    """
    policy.require_invite_to(actor, account)
    now = now or utcnow()
    email = email.strip().lower()
    name = name.strip()
    if not name:
        raise ServiceError("Enter the person's name.", field="name")
    existing = find_user_by_email(email)
    if existing is None:
        user = create_user(email=email, name=name, role=Role.CUSTOMER, account=account)
    elif existing.account_id == account.id and existing.password_hash is None and existing.active:
        user = existing  # invited before and never accepted: send a new link
    else:
        raise ServiceError(
            "This address already has an account in the portal. They can sign in, or reset their password.",
            field="email",
        )
    link = notify.external_url("auth.accept_invitation", token=tokens.make_token(tokens.INVITATION, user, now=now))
    notify.notify_invitation(user, link=link, invited_by=actor, expires_at=tokens.expires_at(tokens.INVITATION, now))
    db.session.flush()
    return user


def accept_invitation(token: str, *, name: str, password: str) -> User:
    """Set the invitee's name and first password from a valid invitation link (TokenError otherwise,
    and nothing changes). Setting the password uses the link up."""
    user = tokens.read_token(tokens.INVITATION, token)
    name = name.strip()
    if not name:
        raise ServiceError("Enter your name.", field="name")
    _set_password(user, password)
    user.name = name
    db.session.flush()
    return user


def request_password_reset(email: str, *, now: datetime | None = None) -> None:
    """Queue a reset link if `email` belongs to an active user; do nothing otherwise.

    Says nothing either way, so the page cannot be used to find out who has an account. The link
    is single use and valid for PASSWORD_RESET_MINUTES.
    """
    now = now or utcnow()
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    link = notify.external_url("auth.reset_password", token=tokens.make_token(tokens.PASSWORD_RESET, user, now=now))
    notify.notify_password_reset(user, link=link, expires_at=tokens.expires_at(tokens.PASSWORD_RESET, now))
    db.session.flush()


def reset_password(token: str, *, password: str) -> User:
    """Set a new password from a valid reset link (TokenError otherwise, and nothing changes).
    A reset also lifts a sign-in lockout: the person has just proved they own the address."""
    user = tokens.read_token(tokens.PASSWORD_RESET, token)
    _set_password(user, password)
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    return user


def _set_password(user: User, password: str) -> None:
    """Replace the password the link was issued for, once: the UPDATE only matches while the hash is
    still the one the token's fingerprint was checked against, so of two requests racing with the
    same link, the second finds the link used (it waits for the first's row lock, then matches nothing)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    old, new = user.password_hash, hash_password(password)
    unchanged = User.password_hash.is_(None) if old is None else User.password_hash == old
    updated = db.session.execute(
        sa.update(User).where(User.id == user.id, unchanged).values(password_hash=new),
        execution_options={"synchronize_session": False},
    ).rowcount
    if updated != 1:
        raise tokens.TokenError("used")
    set_committed_value(user, "password_hash", new)
