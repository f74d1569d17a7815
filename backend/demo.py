"""``flask demo``: demo accounts, a demo hotel and a demo boat operator for the embedded default (never in production)."""

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
DEMO_OPERATOR = {"name": "Andaman Sea Tours (demo)", "licence": "MD-PKT-DEMO-001"}


def demo_operator():  # noqa: ANN201  (backend.marine.models.Operator, imported when needed)
    """The demo boat operator, registered on first use."""
    from backend.marine.models import Operator
    from backend.marine.service import create_operator

    operator = db.session.scalar(select(Operator).where(Operator.name == DEMO_OPERATOR["name"]))
    return operator if operator is not None else create_operator(**DEMO_OPERATOR)


@click.command("demo")
@click.option("--password", default=DEMO_PASSWORD, show_default=True, help="Password for every demo account.")
def demo_command(password: str) -> None:
    """Create (or reset) one demo account per role, a demo hotel and a demo boat operator; prints the credentials."""
    hotel = db.session.scalar(select(Hotel).where(Hotel.name == DEMO_HOTEL["name"]))
    if hotel is None:
        hotel = create_hotel(**DEMO_HOTEL)
    operator = demo_operator()
    accounts = [
        ("admin", Role.ADMIN, {}),
        ("officer", Role.IMMIGRATION, {}),
        ("dispatcher", Role.DISPATCHER, {}),
        ("hotel", Role.HOTEL_MANAGER, {"hotel_id": hotel.id}),
        ("boats", Role.MARINE_OPERATOR, {"operator_id": operator.id}),
    ]
    for username, role, binding in accounts:
        auth_service.create_user(username=username, password=password, role=role, **binding)
    db.session.commit()
    click.echo("Demo accounts (username / password / role):")
    for username, role, _ in accounts:
        click.echo(f"  {username:<11} {password}  {role}")
    click.echo(f"Demo hotel: {hotel.name} (id {hotel.id})")
    click.echo(f"Demo boat operator: {operator.name} (id {operator.id})")
