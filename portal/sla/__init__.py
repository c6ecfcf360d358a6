"""SLA policies, business calendar and clocks."""

from portal.sla.routes import bp

__all__ = ["bp"]
