"""``flask operators …`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from backend.extensions import db
from backend.marine import service

operators_cli = AppGroup("operators", help="Boat-tour operators (marine tourism).")


@operators_cli.command("create")
@click.option("--name", required=True)
@click.option("--licence", default=None, help="the operator's licence number")
def create_command(name: str, licence: str | None) -> None:
    """Register a boat-tour operator; prints its id alone on the last line."""
    try:
        operator = service.create_operator(name=name, licence=licence)
        db.session.commit()
    except ValueError as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from exc
    click.echo(f"created operator {operator.name!r}")
    click.echo(str(operator.id))


@operators_cli.command("list")
def list_command() -> None:
    """List the operators: id, name, licence."""
    for operator in service.list_operators():
        click.echo(f"{operator.id}\t{operator.name}\t{operator.licence or ''}")
