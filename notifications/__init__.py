"""Delivery: push through an outbox, realtime fan-out to dispatchers, broadcasts and CAP."""

from flask import Blueprint, Flask

# The console's broadcast composer (broadcasts.js), served at /static/notifications/.
static_blp = Blueprint("notifications_static", __name__, static_folder="static",
                       static_url_path="/static/notifications")


def init_app(app: Flask) -> None:
    """Register the broadcast and inbox APIs and their errors, the outbox jobs and listeners, and the static files."""
    from backend.extensions import api
    from backend.web.transactions import translate
    from notifications import (
        models,  # noqa: F401  (register tables)
        outbox,  # noqa: F401  (registers the jobs)
        realtime,
    )
    from notifications.broadcasts import AreaError
    from notifications.views import blp, inbox_blp, languages_blp

    translate(app, AreaError, 422, blueprint=blp, errors=lambda exc: {"json": {"area": [str(exc)]}})
    api.register_blueprint(blp)
    api.register_blueprint(inbox_blp)
    api.register_blueprint(languages_blp)
    app.register_blueprint(static_blp)
    realtime.init_app(app)
    app.config.setdefault("CARD_EXPIRY_NOTICE_S", 2 * 86400)
