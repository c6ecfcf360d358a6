"""SLA policies, business calendar and clocks."""
