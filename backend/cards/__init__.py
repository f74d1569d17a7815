"""Smart Tourist Cards: issuance at the checkpoints, signed QR, verification, revocation."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, CLI and events."""
    from backend.cards import models  # noqa: F401  (register tables)
