"""Hotels (SHA Plus), their managers and guests' stays."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the ``hotels`` CLI (the hotel API and page come with the hotels issue)."""
    from backend.hotels import models  # noqa: F401  (register tables)
    from backend.hotels.cli import hotels_cli

    app.cli.add_command(hotels_cli)
