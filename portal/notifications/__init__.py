"""Notifications: the mail outbox, who is told what, delivery, and the admin's outbox page.

Services call `notify_case_event(event)` after they flush (see `messages`); `flask outbox send`
delivers what they queued.
"""

from portal.notifications.messages import (
    notify_breached,
    notify_case_event,
    notify_due_soon,
    notify_invitation,
    notify_password_reset,
)
from portal.notifications.routes import bp

__all__ = [
    "bp",
    "notify_breached",
    "notify_case_event",
    "notify_due_soon",
    "notify_invitation",
    "notify_password_reset",
]
