"""Signed, expiring, single-use links for invitations and password resets.

A token is the user's id and a fingerprint of their current password hash, signed with SECRET_KEY
(itsdangerous, a salt per purpose so one kind of link cannot be used as the other). It is single
use without storing anything: setting a password changes the hash, so the fingerprint no longer
matches and every link issued before is dead. A token carries no secret (only signed, not
encrypted) and a fingerprint of a salted hash says nothing about the password.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from portal.extensions import db
from portal.models import User
from portal.services import ServiceError


@dataclass(frozen=True)
class Purpose:
    salt: str
    config_key: str  # the setting that gives the lifetime
    unit: str  # of that setting: "days" or "minutes"

    def max_age(self) -> timedelta:
        return timedelta(**{self.unit: current_app.config[self.config_key]})


INVITATION = Purpose("casebridge.invitation", "INVITATION_DAYS", "days")
PASSWORD_RESET = Purpose("casebridge.password-reset", "PASSWORD_RESET_MINUTES", "minutes")


class TokenError(ServiceError):
    """Why a link cannot be used: "invalid" (tampered, or for no usable account), "expired" or "used"."""

    MESSAGES = {
        "invalid": "This link is not valid. Check that you copied all of it from the e-mail.",
        "expired": "This link has expired.",
        "used": "This link has already been used.",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason
        self.status_code = 400 if reason == "invalid" else 410


def fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "no password yet").encode()).hexdigest()[:20]


def _serializer(purpose: Purpose, now: datetime | None) -> URLSafeTimedSerializer:
    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now.timestamp()) if now is not None else super().get_timestamp()

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose.salt, signer=Signer)


def make_token(purpose: Purpose, user: User, *, now: datetime | None = None) -> str:
    """A link token for `user`, issued at `now` (default: the real time; tests pass another)."""
    return _serializer(purpose, now).dumps({"u": user.id, "f": fingerprint(user)})


def expires_at(purpose: Purpose, issued: datetime) -> datetime:
    return issued + purpose.max_age()


def read_token(purpose: Purpose, token: str, *, now: datetime | None = None) -> User:
    """The user a token is for, or TokenError: "invalid" when it was tampered with, is for another
    purpose or for an inactive or unknown user; "expired" after the purpose's lifetime; "used"
    when the password changed since it was issued (it was used, or a later link was)."""
    max_age = int(purpose.max_age().total_seconds())
    try:
        payload = _serializer(purpose, now).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("expired") from None
    except BadSignature:
        raise TokenError("invalid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise TokenError("invalid")
    user = db.session.get(User, payload["u"])
    if user is None or not user.active:
        raise TokenError("invalid")
    if payload.get("f") != fingerprint(user):
        raise TokenError("used")
    return user
