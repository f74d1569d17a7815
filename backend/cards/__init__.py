"""Smart Tourist Cards: issuance at the checkpoints, signed QR, verification, revocation."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, errors, pages and the ``keys`` CLI; card ids in every URL read as typed."""
    from backend.card_ids import canonical_path_card_id
    from backend.cards import models  # noqa: F401  (register tables)
    from backend.cards.cli import keys_cli
    from backend.cards.presented import CardThrottled
    from backend.cards.search import BadCursor
    from backend.cards.service import CardInputError, CardStateError
    from backend.cards.views import blp, jwks_blp, pages
    from backend.extensions import api
    from backend.web.transactions import retry_after, translate

    translate(app, BadCursor, 422, blueprint=blp, message="the cursor is not one of this list",
              errors=lambda exc: {"query": {"cursor": [str(exc)]}})
    translate(app, CardInputError, 422, blueprint=blp, message="the card cannot be issued",
              errors=lambda exc: {"json": exc.errors})
    translate(app, CardStateError, 409, blueprint=blp)
    translate(app, CardThrottled, 429, headers=retry_after)  # at every desk a card is presented to (hotel, pier)
    api.register_blueprint(blp)
    api.register_blueprint(jwks_blp)
    app.register_blueprint(pages)
    app.cli.add_command(keys_cli)
    app.url_value_preprocessor(canonical_path_card_id)
