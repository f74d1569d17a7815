"""Companion app HTTP surface: enrollment, pings, SOS, push token, OwnTracks and OsmAnd."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, CLI and events."""

    return None
