"""The marine events reach a real Socket.IO client of the 191 center (``python wsgi.py``)."""

from __future__ import annotations

import queue

import pytest
import requests
import socketio

from tests.dispatch.conftest import NAMESPACE, bearer
from tests.marine.conftest import iso, make_operator, operator_headers, trip_body


def test_marine_warning_and_trip_events_reach_the_dispatchers(app, client, auth, factories, live_server, consoles):
    operator = make_operator(app, "Andaman Sea Tours")
    crew = operator_headers(app, client, operator, "crew-live")
    # a marine_operator's token is no console's
    with pytest.raises(socketio.exceptions.ConnectionError):
        consoles(live_server.url, crew["Authorization"].split()[1]).connect()
    console = consoles(live_server.url, auth.token("dispatcher"))
    warnings: queue.Queue = queue.Queue()
    trips: queue.Queue = queue.Queue()
    console.client.on("marine_warning", warnings.put, namespace=NAMESPACE)
    console.client.on("trip", trips.put, namespace=NAMESPACE)
    console.connect()
    console.hello.get(timeout=10)

    admin = bearer(auth.token("admin"))
    station = requests.post(f"{live_server.url}/api/v1/marine/stations", headers=admin, timeout=10,
                            json={"name": "Kata beach tower", "lat": 7.8200, "lon": 98.2950}).json()
    calm = requests.post(f"{live_server.url}/api/v1/marine/observations", timeout=10,
                         headers=bearer(station["station_token"]), json={"observed_at": iso(-120), "flag": "yellow"})
    assert calm.status_code == 201
    red = requests.post(f"{live_server.url}/api/v1/marine/observations", timeout=10,
                        headers=bearer(station["station_token"]), json={"observed_at": iso(-60), "flag": "red"})
    assert red.status_code == 201, red.text
    event = warnings.get(timeout=10)
    assert event["station"] == {"id": station["id"], "name": "Kata beach tower", "lat": 7.82, "lon": 98.295}
    assert event["warning"]["reason"] == "red flag" and event["warning"]["since"]
    assert event["zone"] is None
    draft = event["broadcast_draft"]
    assert draft["template"] == "rip_current_red_flag" and draft["severity"] == "Severe"
    assert draft["area"]["type"] == "Polygon"
    # the same warning again is no new event
    requests.post(f"{live_server.url}/api/v1/marine/observations", timeout=10,
                  headers=bearer(station["station_token"]), json={"observed_at": iso(-30), "flag": "red"})

    created = requests.post(f"{live_server.url}/api/v1/marine/trips", headers=crew, json=trip_body(), timeout=10)
    assert created.status_code == 201, created.text
    event = trips.get(timeout=10)
    assert event["id"] == created.json()["id"] and event["status"] == "planned"
    assert event["operator"]["name"] == "Andaman Sea Tours" and event["passengers_aboard"] == 0
    card = factories.issued_card()
    requests.post(f"{live_server.url}/api/v1/marine/trips/{event['id']}/passengers", headers=crew, timeout=10,
                  json={"card_token": card["card_token"]})
    assert trips.get(timeout=10)["passengers_aboard"] == 1
    with pytest.raises(queue.Empty):
        warnings.get(timeout=1)
