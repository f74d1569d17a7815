"""``flask demo``: demo accounts and a demo hotel for the embedded default (never in production)."""

from __future__ import annotations

import click
from sqlalchemy import select

from backend.auth import service as auth_service
from backend.auth.models import Role
from backend.extensions import db
from backend.hotels.models import Hotel
from backend.hotels.service import create_hotel

DEMO_PASSWORD = "phuket-demo-2026"
DEMO_HOTEL = {"name": "Patong Seaview Hotel (demo)", "lat": 7.8935, "lon": 98.2975, "sha_plus_cert": "SHA-PLUS-DEMO-001"}


@click.command("demo")
@click.option("--password", default=DEMO_PASSWORD, show_default=True, help="Password for every demo account.")
def demo_command(password: str) -> None:
    """Create (or reset) one demo account per role and a demo hotel; prints the credentials."""
    hotel = db.session.scalar(select(Hotel).where(Hotel.name == DEMO_HOTEL["name"]))
    if hotel is None:
        hotel = create_hotel(**DEMO_HOTEL)
    accounts = [
        ("admin", Role.ADMIN, None),
        ("officer", Role.IMMIGRATION, None),
        ("dispatcher", Role.DISPATCHER, None),
        ("hotel", Role.HOTEL_MANAGER, hotel.id),
    ]
    for username, role, hotel_id in accounts:
        auth_service.create_user(username=username, password=password, role=role, hotel_id=hotel_id)
    db.session.commit()
    click.echo("Demo accounts (username / password / role):")
    for username, role, _ in accounts:
        click.echo(f"  {username:<11} {password}  {role.value}")
    click.echo(f"Demo hotel: {hotel.name} (id {hotel.id})")
