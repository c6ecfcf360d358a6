"""Users of every role: customers (members of one account) and staff."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.extensions import db
from portal.models.base import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.accounts import Account


class Role(StrEnum):
    CUSTOMER = "customer"
    ACCOUNT_MANAGER = "account_manager"
    TEAM_LEAD = "team_lead"
    EXECUTIVE = "executive"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


STAFF_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.EXECUTIVE, Role.ADMIN})


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (see `_normalise_email`), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/London")
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account | None] = relationship(foreign_keys=[account_id])

    __table_args__ = (
        sa.CheckConstraint("(role = 'customer') = (account_id IS NOT NULL)", name="customer_has_account"),
        # The assignable staff (a few dozen among thousands of customers), by role and name.
        sa.Index("ix_users_role_name", "role", "name"),
    )

    @validates("email")
    def _normalise_email(self, key, value: str) -> str:
        return value.strip().lower()

    @property
    def is_active(self) -> bool:  # read by Flask-Login
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
