"""Fixtures of the geo tests: the Phuket seed data."""

from __future__ import annotations

import pytest

from tests.geo import helpers


@pytest.fixture
def seeded(app):
    """The app with Phuket's zones and facilities loaded (``flask seed``)."""
    helpers.seed(app)
    return app
