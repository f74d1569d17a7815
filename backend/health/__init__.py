"""Liveness and readiness."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register ``/healthz``."""
    from backend.extensions import api
    from backend.health.views import blp

    api.register_blueprint(blp)
