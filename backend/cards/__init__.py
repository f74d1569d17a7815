"""Smart Tourist Cards: issuance at the checkpoints, signed QR, verification, revocation."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, pages and the ``keys`` CLI; card ids in every URL read as typed."""
    from backend.card_ids import canonical_path_card_id
    from backend.cards import models  # noqa: F401  (register tables)
    from backend.cards.cli import keys_cli
    from backend.cards.views import blp, jwks_blp, pages
    from backend.extensions import api

    api.register_blueprint(blp)
    api.register_blueprint(jwks_blp)
    app.register_blueprint(pages)
    app.cli.add_command(keys_cli)
    app.url_value_preprocessor(canonical_path_card_id)
