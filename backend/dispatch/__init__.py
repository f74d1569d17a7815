"""Incidents and the 191 center's workflow: REST API, Socket.IO feed and the console page."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, errors and Socket.IO handlers (its signals are wired in backend.wiring)."""
    from backend.dispatch import events, models  # noqa: F401  (register tables)
    from backend.dispatch.mutes import NotADangerZone, UnknownZone
    from backend.dispatch.service import IncidentNotFound, InvalidTransition, UnknownCard, UnknownUnit
    from backend.dispatch.units import UnitNameTaken
    from backend.dispatch.views import blp, console
    from backend.extensions import api
    from backend.web.transactions import translate

    translate(app, IncidentNotFound, 404, blueprint=blp, message=lambda exc: f"no incident {exc.args[0]}")
    translate(app, InvalidTransition, 409, blueprint=blp)
    translate(app, UnknownCard, 422, blueprint=blp, message="unknown card",
              errors=lambda _: {"json": {"card_id": ["no card has this id"]}})
    translate(app, UnknownUnit, 422, blueprint=blp, message="unknown unit",
              errors=lambda _: {"json": {"unit_id": ["no unit has this id"]}})
    translate(app, UnitNameTaken, 409, blueprint=blp, message=lambda exc: f"a unit named {exc.args[0]!r} exists")
    translate(app, UnknownZone, 404, blueprint=blp, message=lambda exc: f"no zone {exc.args[0]}")
    translate(app, NotADangerZone, 422, blueprint=blp, message="only danger zones raise danger alerts",
              errors=lambda _: {"path": {"zone_id": ["not a danger zone"]}})
    api.register_blueprint(blp)
    app.register_blueprint(console)
    events.register()
