"""Incidents and the 191 center's workflow: REST API, Socket.IO feed and the console page."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints and Socket.IO handlers (its signals are wired in backend.wiring)."""
    from backend.dispatch import events, models  # noqa: F401  (register tables)
    from backend.dispatch.views import blp, console
    from backend.extensions import api

    api.register_blueprint(blp)
    app.register_blueprint(console)
    events.register()
