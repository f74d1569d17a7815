"""``flask keys …``: the card-signing keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from backend.cards import keys, service
from backend.extensions import db

keys_cli = AppGroup("keys", help="Card-signing keys (ES256).")


@keys_cli.command("rotate")
def rotate_command() -> None:
    """Make a new signing key current; cards issued before keep verifying until they expire."""
    new_key = service.rotate_keys()
    db.session.commit()
    click.echo(f"new current key: {new_key.kid}")


@keys_cli.command("list")
def list_command() -> None:
    """Every key: kid, created, retired, current or not (no private material is printed)."""
    store = keys.store()
    current = store.current_kid()
    published = {k["kid"] for k in service.jwks()["keys"]}
    for key in store.all_keys():
        state = "current" if key.kid == current else ("retired, published" if key.kid in published else "retired")
        retired = key.retired_at.isoformat() if key.retired_at else "-"
        click.echo(f"{key.kid}  created {key.created_at.isoformat()}  retired {retired}  {state}")
