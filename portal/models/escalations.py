"""Escalations (DESIGN.md §3, §7): a case raised to the team leads (level 1) or the executives (level 2).

A case has at most one open escalation (a partial unique index), which rises from level 1 to 2,
is acknowledged, owned, decided and closed. Rules may only raise it; executives may de-escalate.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.cases import Case
    from portal.models.users import User


class EscalationReason(StrEnum):
    CRITICAL_SEVERITY = "critical_severity"
    SLA_BREACH = "sla_breach"
    CUSTOMER_REQUEST = "customer_request"
    MANUAL = "manual"
    REOPENED = "reopened"

    @property
    def label(self) -> str:
        return {
            "critical_severity": "Critical severity",
            "sla_breach": "SLA breach",
            "customer_request": "Customer request",
            "manual": "Raised by staff",
            "reopened": "Reopened twice",
        }[self.value]


class DecisionOutcome(StrEnum):
    CREDIT_OFFERED = "credit_offered"
    FIX_PRIORITISED = "fix_prioritised"
    ACCOUNT_REVIEW = "account_review"
    NO_ACTION = "no_action"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class EscalationState(StrEnum):
    """Where an escalation stands; derived from its columns, never stored."""

    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"
    OWNED = "owned"
    DECIDED = "decided"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


def urgency_rank(level: int, acknowledged: bool) -> int:
    """The board's sort key: unacknowledged before acknowledged, level 2 before level 1 (0 = most urgent)."""
    return (2 if acknowledged else 0) + (0 if level >= 2 else 1)


class Escalation(db.Model):
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column()
    reason: Mapped[EscalationReason] = mapped_column(enum_column(EscalationReason))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # when it was opened
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # when it reached its level
    raised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision_outcome: Mapped[DecisionOutcome | None] = mapped_column(enum_column(DecisionOutcome))
    decision: Mapped[str | None] = mapped_column(sa.Text)  # internal: never shown to customers
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Board order (see `urgency_rank`), kept current by the services.
    urgency: Mapped[int] = mapped_column(default=1)
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # At most one open escalation per case: what makes raising race-free (INSERT … ON CONFLICT).
        sa.Index(
            "uq_escalations_open_case",
            "case_id",
            unique=True,
            postgresql_where=sa.text("closed_at IS NULL"),
            sqlite_where=sa.text("closed_at IS NULL"),
        ),
        # The board: open (or closed) escalations by urgency, oldest first.
        sa.Index("ix_escalations_board", "closed_at", "urgency", "created_at", "id"),
        sa.Index("ix_escalations_case_created", "case_id", "created_at"),
        # Reports: the escalations opened in a period.
        sa.Index("ix_escalations_created", "created_at"),
        sa.CheckConstraint("level BETWEEN 1 AND 2", name="level_range"),
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def state(self) -> EscalationState:
        if self.closed_at is not None:
            return EscalationState.CLOSED
        if self.decided_at is not None:
            return EscalationState.DECIDED
        if self.owner_id is not None:
            return EscalationState.OWNED
        if self.acknowledged_at is not None:
            return EscalationState.ACKNOWLEDGED
        return EscalationState.UNACKNOWLEDGED

    def __repr__(self) -> str:
        return f"<Escalation {self.id} case {self.case_id} L{self.level} {self.reason} {self.state}>"
