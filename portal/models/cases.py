"""Cases, their append-only timeline of events, and attachments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.accounts import Account
    from portal.models.users import User


class Kind(StrEnum):
    FEEDBACK = "feedback"
    QUERY = "query"
    ISSUE = "issue"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# Case search on PostgreSQL matches this full-text document; its GIN index `ix_cases_search` is
# PostgreSQL's own, so only migration 0007 creates it and the models (and autogenerate) leave it out.
SEARCH_DOCUMENT = "to_tsvector('english', cases.subject || ' ' || cases.description)"
MIGRATION_ONLY_INDEXES = frozenset({"ix_cases_search"})


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's `include_object`: everything but the indexes only migrations know about."""
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


# A tuple in this order, not a set: `status IN (...)` then reads exactly as the partial indexes'
# predicate (ix_cases_open_assignee), and PostgreSQL drops the condition instead of checking it
# again through a second index. A set's order changes from one process to the next.
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER)
# The SLA clock runs in these; it is paused while waiting on the customer and stops at resolution.
CLOCK_RUNNING_STATUSES = (Status.NEW, Status.OPEN)

# The fixed set of categories, value -> label. Stored by value.
CATEGORIES = {
    "account_access": "Account and access",
    "billing": "Billing and invoices",
    "bug": "Something is broken",
    "performance": "Speed and reliability",
    "integration": "Integrations and API",
    "data": "Data and reporting",
    "feature_request": "Suggestion or new feature",
    "documentation": "Documentation and training",
    "other": "Something else",
}


class EventType(StrEnum):
    CREATED = "created"
    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    SEVERITY_CHANGED = "severity_changed"
    KIND_CHANGED = "kind_changed"
    CATEGORY_CHANGED = "category_changed"
    ESCALATED = "escalated"
    SLA_BREACHED = "sla_breached"
    # Escalation steps after it is raised (raising, and raising to level 2, are `escalated`).
    ESCALATION_ACKNOWLEDGED = "escalation_acknowledged"
    ESCALATION_OWNED = "escalation_owned"
    ESCALATION_DECIDED = "escalation_decided"
    ESCALATION_CLOSED = "escalation_closed"
    DE_ESCALATED = "de_escalated"
    MERGED = "merged"
    RATED = "rated"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind))
    category: Mapped[str] = mapped_column(sa.String(32))
    subject: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.NEW)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"))
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_minutes: Mapped[int] = mapped_column(default=0)
    escalation_level: Mapped[int] = mapped_column(default=0)
    reopen_count: Mapped[int] = mapped_column(default=0)
    satisfaction_score: Mapped[int | None] = mapped_column()
    # Set once by the SLA sweep with a conditional UPDATE (… WHERE col IS NULL), so each breach is
    # recorded and escalated exactly once, however many sweeps run.
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the sweep found a target overrun by more than half (level 2, once).
    severe_breach_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The customer's last escalation request: at most one per 24 hours (a conditional UPDATE).
    escalation_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A copy of `next_due_at` kept for sorting and filtering in SQL (see `next_due_at`).
    stored_next_due_at: Mapped[datetime | None] = mapped_column("next_due_at", UTCDateTime)
    # Optimistic locking: SQLAlchemy adds "AND version = :old" to every UPDATE of a case.
    version: Mapped[int] = mapped_column(default=1)

    account: Mapped[Account] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Customer and manager lists: one account's cases, newest first.
        sa.Index("ix_cases_account_created", "account_id", "created_at", "id"),
        # "My cases" and the triage queue.
        sa.Index("ix_cases_assignee_status", "assignee_id", "status"),
        # Staff lists over everything they may see, newest first, optionally by status.
        sa.Index("ix_cases_created", "created_at", "id"),
        sa.Index("ix_cases_status_created", "status", "created_at", "id"),
        # Queues sorted by SLA time left: all cases (NULLs, no clock running, sort last), and per assignee.
        sa.Index("ix_cases_next_due", "next_due_at", "id"),
        sa.Index("ix_cases_assignee_next_due", "assignee_id", "next_due_at", "id"),
        # The triage queue, its count in the navigation and an account manager's share of it: the
        # few thousand unassigned new cases in SLA order, with what the visibility filter reads.
        sa.Index(
            "ix_cases_triage",
            "next_due_at",
            "id",
            "account_id",
            "assignee_id",
            postgresql_where=sa.text("status = 'new' AND assignee_id IS NULL"),
            sqlite_where=sa.text("status = 'new' AND assignee_id IS NULL"),
        ),
        # The report's suggestions digest: the newest feedback of each category in a period.
        sa.Index(
            "ix_cases_feedback_category",
            "category",
            "created_at",
            "id",
            postgresql_where=sa.text("kind = 'feedback'"),
            sqlite_where=sa.text("kind = 'feedback'"),
        ),
        # Open cases per assignee (the assignment choices' workload, "My cases" in the navigation):
        # index-only scans. The account id is there for an account manager's visibility filter.
        sa.Index(
            "ix_cases_open_assignee",
            "assignee_id",
            "account_id",
            postgresql_where=sa.text("status IN ('new', 'open', 'waiting_on_customer')"),
            sqlite_where=sa.text("status IN ('new', 'open', 'waiting_on_customer')"),
        ),
        sa.CheckConstraint("escalation_level BETWEEN 0 AND 2", name="escalation_level_range"),
        sa.CheckConstraint(
            "satisfaction_score IS NULL OR satisfaction_score BETWEEN 1 AND 5", name="satisfaction_range"
        ),
    )

    @hybrid_property
    def next_due_at(self) -> datetime | None:
        """When the SLA target that applies now falls due: the first response until there is one,
        then the resolution. None while the clock is paused or the case is resolved or closed.

        In Python it is worked out from the SLA columns, so it is right even before a flush; in SQL
        it is the stored `next_due_at` column (`stored_next_due_at`), which `_store_next_due_at`
        copies from this on every flush. The queues sort and filter on that column through
        `ix_cases_next_due` and `ix_cases_assignee_next_due`: an expression over five columns
        could not be index-backed as simply, and the sort must not grow with the table.
        """
        if self.status not in CLOCK_RUNNING_STATUSES or self.sla_paused_at is not None:
            return None
        return self.first_response_due_at if self.first_response_at is None else self.resolution_due_at

    @next_due_at.inplace.expression
    @classmethod
    def _next_due_at_expression(cls):
        return cls.stored_next_due_at

    @property
    def reference(self) -> str:
        return f"CB-{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    def __repr__(self) -> str:
        return f"<Case {self.reference} {self.status}>"


class CaseEvent(db.Model):
    """One entry of a case's timeline. Append-only: written only by `portal.cases.timeline`."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    type: Mapped[EventType] = mapped_column(enum_column(EventType))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility))
    body: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship()
    actor: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="event", order_by="Attachment.id")

    __table_args__ = (sa.Index("ix_case_events_case_created", "case_id", "created_at", "id"),)

    @property
    def is_internal(self) -> bool:
        return self.visibility == Visibility.INTERNAL


class Attachment(db.Model):
    """A file attached to a case event. The bytes live in storage under `storage_key`, never in the DB."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("case_events.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column()
    storage_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[CaseEvent] = relationship(back_populates="attachments")
    case: Mapped[Case] = relationship()


@sa.event.listens_for(Session, "before_flush")
def _store_next_due_at(session, flush_context, instances) -> None:
    """Keep the stored copy of `Case.next_due_at` equal to the computed one on every write."""
    for instance in (*session.new, *session.dirty):
        if isinstance(instance, Case):
            due = instance.next_due_at
            if instance.stored_next_due_at != due:
                instance.stored_next_due_at = due
