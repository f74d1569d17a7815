"""Incidents and the 191 center's workflow."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, CLI and events."""
    from backend.dispatch import models  # noqa: F401  (register tables)
