"""Hotels (SHA Plus), their managers and guests' stays: the API, the ``/hotel`` page, the CLI."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the hotels API and its errors, the manager's page and the ``hotels`` CLI."""
    from backend.cards.presented import CardRefused
    from backend.extensions import api
    from backend.hotels import models  # noqa: F401  (register tables)
    from backend.hotels.cli import hotels_cli
    from backend.hotels.service import StayConflict, UsernameTaken
    from backend.hotels.views import blp, card_refused, page
    from backend.web.transactions import answer, translate

    answer(app, CardRefused, card_refused, blueprint=blp)  # (a refused card's CardThrottled: cards.init_app)
    translate(app, StayConflict, 409, blueprint=blp)
    translate(app, UsernameTaken, 409, blueprint=blp)
    api.register_blueprint(blp)
    app.register_blueprint(page)
    app.cli.add_command(hotels_cli)
