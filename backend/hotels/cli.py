"""``flask hotels …`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from backend.extensions import db
from backend.hotels import service

hotels_cli = AppGroup("hotels", help="Hotels.")


@hotels_cli.command("create")
@click.option("--name", required=True)
@click.option("--lat", type=float, required=True)
@click.option("--lon", type=float, required=True)
@click.option("--sha-plus-cert", default=None)
def create_command(name: str, lat: float, lon: float, sha_plus_cert: str | None) -> None:
    """Create a hotel; prints its id alone on the last line."""
    try:
        hotel = service.create_hotel(name=name, lat=lat, lon=lon, sha_plus_cert=sha_plus_cert)
        db.session.commit()
    except ValueError as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from exc
    click.echo(f"created hotel {hotel.name!r}")
    click.echo(str(hotel.id))
