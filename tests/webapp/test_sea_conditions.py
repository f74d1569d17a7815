"""Sea conditions on the companion app's map (GET /api/v1/marine/conditions) in headless Chromium.

Two stations report: Kata Beach with a red flag (a marine warning) and Patong with a calm sea. The
map screen lists both — the warning first and highlighted, with the flag, waves and wind — in the
phone's language, and draws them on the map.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from tests.webapp.test_browser import _enroll_from_card_link, _go

pytestmark = pytest.mark.browser


def test_the_map_shows_sea_conditions_with_the_warning_first(app, factories, seeded, server, phone_context,
                                                             screenshot):
    from backend.extensions import db
    from backend.marine.conditions import create_station

    with app.app_context():
        _, patong = create_station(name="Patong lifeguard tower", lat=7.8960, lon=98.2950)
        _, kata = create_station(name="Kata Beach lifeguard tower", lat=7.8206, lon=98.2960)
        db.session.commit()
    now = datetime.now(UTC).isoformat()
    for token, reading in ((patong, {"flag": "green", "wave_height_m": 0.6, "wind_speed_mps": 4.2}),
                           (kata, {"flag": "red", "wave_height_m": 2.9, "wind_speed_mps": 15.1, "gust_mps": 19.4})):
        response = requests.post(f"{server}/api/v1/marine/observations", timeout=10, json={"observed_at": now, **reading},
                                 headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
    card = factories.issued_card(full_name="Somchai Jaidee", nationality="THA", language="th")

    page = phone_context(locale="th-TH").new_page()
    _enroll_from_card_link(page, server, card)
    _go(page, "map")
    items = page.locator("#sea-conditions .item.sea")
    items.nth(1).wait_for()
    assert items.count() == 2
    first, second = items.nth(0), items.nth(1)
    assert "sea-warning" in first.get_attribute("class")  # the warning comes first, highlighted
    assert "Kata Beach lifeguard tower" in first.inner_text()
    assert first.locator(".sea-flag").get_attribute("data-flag") == "red"
    assert "ธงแดง" in first.inner_text() and "2.9" in first.inner_text() and "15.1" in first.inner_text()
    assert "ประกาศเตือนภัยทางทะเล" in first.inner_text()
    assert second.locator(".sea-flag").get_attribute("data-flag") == "green"
    assert "sea-warning" not in second.get_attribute("class") and "0.6" in second.inner_text()
    assert page.locator("#screen-map h2[data-i18n='sea.title']").inner_text() == "สภาพทะเล"
    # on the map: the station under a warning has a heavy red ring
    assert page.locator(".leaflet-overlay-pane path[stroke-width='4']").count() == 1
    screenshot(page, "th-map-sea-conditions")
