"""Staff work queues, triage and the team's workload."""

from portal.triage.routes import bp

__all__ = ["bp"]
