"""The home page and the health check."""

from portal.main.routes import bp

__all__ = ["bp"]
