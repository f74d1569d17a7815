"""Devices, pings and each card's latest position; device authentication (``devices``), the positions
the 191 console reads (``positions``), overdue detection and retention jobs."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's tables and periodic jobs."""
    from backend.tracking import jobs, models  # noqa: F401  (register tables and jobs)
