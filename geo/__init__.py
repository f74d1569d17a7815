"""Zones and facilities of Phuket, spatial queries, and the rules that turn positions into events."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the zones and facilities API and the ``seed`` command."""
    from backend.extensions import api
    from geo import models  # noqa: F401  (register tables)
    from geo.seed import seed_command
    from geo.views import facilities_blp, zones_blp

    api.register_blueprint(zones_blp)
    api.register_blueprint(facilities_blp)
    app.cli.add_command(seed_command)
