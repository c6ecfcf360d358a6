"""Cases: submit, list, read and reply, internal notes, attachments, confirm or reopen."""

from portal.cases.routes import bp

__all__ = ["bp"]
