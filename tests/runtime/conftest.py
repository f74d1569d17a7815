"""Fixtures of the runtime tests: a real ``python wsgi.py`` on PostGIS and enrolled phones."""

from __future__ import annotations

import pytest

from tests.mobile_api.conftest import MobileActions


@pytest.fixture
def mobile(app, client, factories) -> MobileActions:
    """Enrollment helpers (cards with known codes, phones enrolled through the API)."""
    return MobileActions(app, client, factories)
