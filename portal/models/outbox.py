"""The mail outbox (DESIGN.md §1): one row per e-mail, written in the transaction of the change that
caused it and delivered later by `flask outbox send`; and the notifications people switched off."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.users import User


class MessageStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt (or claimed by a sender right now)
    SENT = "sent"
    DEAD = "dead"  # gave up after MAIL_MAX_ATTEMPTS; an admin may retry it

    @property
    def label(self) -> str:
        return self.value.capitalize()


class NotificationKind(StrEnum):
    """What a message is about. Stored by value on messages and opt-outs; the catalog of labels and
    who may receive which is `portal.notifications.preferences`."""

    # To customers
    CASE_RECEIVED = "case_received"
    STAFF_REPLY = "staff_reply"
    WAITING_ON_YOU = "waiting_on_you"
    CASE_ESCALATED = "case_escalated"
    ESCALATION_ACKNOWLEDGED = "escalation_acknowledged"
    CASE_RESOLVED = "case_resolved"
    # To staff
    CASE_ASSIGNED = "case_assigned"
    CUSTOMER_REPLY = "customer_reply"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    ESCALATION = "escalation"
    ESCALATION_DECIDED = "escalation_decided"
    # Security: always sent, cannot be switched off
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of mail, not a password)


class OutboxMessage(db.Model):
    """One e-mail to one person. Never deleted: it ends `sent` or `dead` (and a dead one can be retried).

    A sender claims a due row by pushing `next_attempt_at` forward by a lease and counting the
    attempt, commits, and only then talks to SMTP; a sender that dies mid-way leaves the row to be
    claimed again when the lease runs out (see `portal.notifications.sender`).
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    recipient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    to_name: Mapped[str] = mapped_column(sa.String(200), default="")
    subject: Mapped[str] = mapped_column(sa.String(255))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The same cause never queues the same mail twice: a second insert with this key does nothing.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipient: Mapped[User | None] = relationship()

    __table_args__ = (
        # The senders' claim: due pending rows, oldest first.
        sa.Index("ix_outbox_messages_status_next_attempt", "status", "next_attempt_at", "id"),
        # The admin page: newest first, all or one status.
        sa.Index("ix_outbox_messages_created", "created_at", "id"),
        sa.Index("ix_outbox_messages_status_created", "status", "created_at", "id"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} to {self.to_address} {self.status}>"


class NotificationOptOut(db.Model):
    """A kind of notification one person switched off. No row means "on", so new kinds start on.

    Security kinds (invitation, password reset) are never stored: they cannot be switched off.
    """

    __tablename__ = "notification_opt_outs"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind), primary_key=True)

    def __repr__(self) -> str:
        return f"<NotificationOptOut {self.user_id} {self.kind}>"
