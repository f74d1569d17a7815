"""Zones and facilities of Phuket, spatial queries, and the rules that turn positions into events."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, CLI and events."""
    from geo import models  # noqa: F401  (register tables)
