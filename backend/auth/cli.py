"""``flask users …`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from backend.auth import service
from backend.auth.models import Role
from backend.extensions import db

users_cli = AppGroup("users", help="Staff accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", required=True)
@click.option("--hotel-id", type=int, default=None)
@click.option("--full-name", default=None)
@click.option("--operator-id", type=int, default=None, help="the boat operator of a marine_operator")
def create_command(username: str, role: str, password: str, hotel_id: int | None, full_name: str | None,
                   operator_id: int | None) -> None:
    """Create a staff account, or update the password and role of an existing one."""
    try:
        user = service.create_user(username=username, password=password, role=Role(role),
                                   hotel_id=hotel_id, full_name=full_name, operator_id=operator_id)
        db.session.commit()
    except ValueError as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from exc
    except Exception as exc:  # an unknown hotel or operator id breaks the foreign key
        db.session.rollback()
        raise click.ClickException(f"could not create the user: {exc.__class__.__name__}") from exc
    click.echo(f"user {user.username} ({user.role}) id={user.id}")


def _set_active(username: str, *, active: bool) -> None:
    user = service.get_user(username=username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    service.set_active(user, active=active)
    db.session.commit()
    click.echo(f"user {user.username} ({user.role}) {'active' if active else 'deactivated'}")


@users_cli.command("deactivate")
@click.argument("username")
def deactivate_command(username: str) -> None:
    """Deactivate a staff account: no sign-in, its tokens refused, its sockets closed within seconds."""
    _set_active(username, active=False)


@users_cli.command("activate")
@click.argument("username")
def activate_command(username: str) -> None:
    """Activate a deactivated staff account again (tokens issued before stay refused)."""
    _set_active(username, active=True)
