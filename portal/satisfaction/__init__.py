"""Satisfaction surveys: customers rate their resolved cases."""

from portal.satisfaction.routes import bp

__all__ = ["bp"]
