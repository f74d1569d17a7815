"""``flask seed``: every domain's reference data (idempotent), composed here rather than in one domain.

Zones, facilities and checkpoints come from ``geo``, the 191 center's units from ``dispatch``;
seeding lives beside ``create_app`` so that neither domain imports the other for it.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from backend.dispatch.units import seed_units
from backend.extensions import db
from geo.seed import seed


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load Phuket's zones, facilities and checkpoints, and the 191 center's units (idempotent)."""
    result = seed()
    units_created, units_updated = seed_units()
    db.session.commit()
    click.echo(f"units: {units_created} created, {units_updated} updated")
    click.echo(f"zones: {result.zones_created} created, {result.zones_updated} updated")
    click.echo(f"facilities: {result.facilities_created} created, {result.facilities_updated} updated")
