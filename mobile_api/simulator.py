"""Placeholder, replaced below."""

import click


@click.command("simulate")
def simulate_command() -> None:
    """Simulate tourists."""
