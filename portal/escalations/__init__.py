"""Escalations: the rules (rules.py), raising and handling them (services.py), and the board."""

from portal.escalations.routes import bp

__all__ = ["bp"]
