"""Audit log: who read or changed which tourist's data, when and from where (PDPA)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the admin's audit log endpoint."""
    from backend.audit.views import blp
    from backend.extensions import api

    api.register_blueprint(blp)
