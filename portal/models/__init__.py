"""All models, importable from one place so Alembic and the app see the whole schema."""

from portal.models.accounts import Account, AccountStatus, Tier
from portal.models.cases import (
    CATEGORIES,
    OPEN_STATUSES,
    Attachment,
    Case,
    CaseEvent,
    EventType,
    Kind,
    Severity,
    Status,
    Visibility,
)
from portal.models.escalations import DecisionOutcome, Escalation, EscalationReason, EscalationState
from portal.models.outbox import MessageStatus, NotificationKind, NotificationOptOut, OutboxMessage
from portal.models.satisfaction import SatisfactionRating
from portal.models.saved_replies import SavedReply
from portal.models.sla import BusinessCalendar, Holiday, SlaPolicy
from portal.models.users import STAFF_ROLES, Role, User

__all__ = [
    "CATEGORIES",
    "OPEN_STATUSES",
    "STAFF_ROLES",
    "Account",
    "AccountStatus",
    "Attachment",
    "BusinessCalendar",
    "Case",
    "CaseEvent",
    "DecisionOutcome",
    "Escalation",
    "EscalationReason",
    "EscalationState",
    "EventType",
    "Holiday",
    "Kind",
    "MessageStatus",
    "NotificationKind",
    "NotificationOptOut",
    "OutboxMessage",
    "Role",
    "SavedReply",
    "SatisfactionRating",
    "Severity",
    "SlaPolicy",
    "Status",
    "Tier",
    "User",
    "Visibility",
]
