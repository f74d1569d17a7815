"""Zones and facilities of Phuket, spatial queries, and the rules that turn positions into events."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the zones and facilities API and the domain's errors (``flask seed``: backend.seeding)."""
    from backend.extensions import api
    from backend.web.transactions import translate
    from geo import models  # noqa: F401  (register tables)
    from geo.service import ZoneConflict
    from geo.views import facilities_blp, zones_blp

    api.register_blueprint(zones_blp)
    api.register_blueprint(facilities_blp)
    translate(app, ZoneConflict, 422, errors=lambda exc: {"json": {"properties": {"slug": [str(exc)]}}})
