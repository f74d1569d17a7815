"""Hotels (SHA Plus), their managers and guests' stays: the API, the ``/hotel`` page, the CLI."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the hotels API, the manager's page and the ``hotels`` CLI."""
    from backend.extensions import api
    from backend.hotels import models  # noqa: F401  (register tables)
    from backend.hotels.cli import hotels_cli
    from backend.hotels.views import blp, page

    api.register_blueprint(blp)
    app.register_blueprint(page)
    app.cli.add_command(hotels_cli)
