"""Companion app HTTP surface: enrollment, pings, SOS, push token, OwnTracks and OsmAnd."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the mobile API blueprint, its Basic-auth scheme (OwnTracks) and ``flask simulate``."""
    from backend.extensions import api
    from mobile_api.simulator import simulate_command
    from mobile_api.views import blp

    api.spec.components.security_scheme(
        "ownTracksBasic", {"type": "http", "scheme": "basic",
                           "description": "OwnTracks HTTP mode: user name = device_id, password = device_token"})
    api.register_blueprint(blp)
    app.cli.add_command(simulate_command)
    __import__("mobile_api.webapp", fromlist=["init_app"]).init_app(app)  # the companion web app at /app
