"""Saved replies: the team's canned responses with placeholders, inserted into a case reply."""

from portal.replies.routes import bp

__all__ = ["bp"]
