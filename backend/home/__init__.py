"""The front door: the landing page at ``/``, interactive API docs at ``/docs`` and the favicon."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the landing page, the API docs page and the favicon."""
    from backend.home.views import home

    app.register_blueprint(home)
