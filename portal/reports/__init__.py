"""Reports, the executive dashboard, exports and account health (DESIGN.md §8)."""

from portal.reports.routes import bp

__all__ = ["bp"]
