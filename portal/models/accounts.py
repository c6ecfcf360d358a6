"""Accounts: the customer companies whose people use the portal."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.users import User


class Tier(StrEnum):
    STANDARD = "standard"
    PREMIUM = "premium"
    STRATEGIC = "strategic"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    AT_RISK = "at_risk"
    CHURNED = "churned"


class Account(db.Model):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    email_domain: Mapped[str | None] = mapped_column(sa.String(255))
    tier: Mapped[Tier] = mapped_column(enum_column(Tier), default=Tier.STANDARD)
    status: Mapped[AccountStatus] = mapped_column(enum_column(AccountStatus), default=AccountStatus.ACTIVE)
    # use_alter breaks the accounts <-> users foreign-key cycle when the schema is created.
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    annual_contract_value: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2), default=Decimal("0"))
    renewal_date: Mapped[date | None] = mapped_column(sa.Date)
    # When set, each customer sees only the cases they raised instead of the whole account's.
    restrict_to_requester: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.name}>"
