"""Delivery: push through an outbox, realtime fan-out to dispatchers, broadcasts and CAP."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, CLI and events."""
    from notifications import models  # noqa: F401  (register tables)
