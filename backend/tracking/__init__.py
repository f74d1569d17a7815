"""Devices, pings and each card's latest position."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, CLI and events."""
    from backend.tracking import models  # noqa: F401  (register tables)
