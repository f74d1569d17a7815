"""Zone mutes reach every connected dispatcher as ``zone_mute`` (real server, real Socket.IO client)."""

from __future__ import annotations

import queue
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.dispatch.conftest import NAMESPACE, bearer

pytestmark = pytest.mark.slow


def test_mute_and_unmute_are_emitted_to_dispatchers_and_sos_stays_unmuted(app, auth, factories, runner,
                                                                          live_server, consoles):
    from sqlalchemy import select

    from backend.extensions import db
    from geo.models import Zone

    with app.app_context():
        assert runner.invoke(args=["seed"]).exit_code == 0
        patong = db.session.scalar(select(Zone.id).where(Zone.slug == "rip-patong"))
    token = auth.token("dispatcher")
    username = "dispatcher1"
    console = consoles(live_server.url, token)
    mutes: queue.Queue = queue.Queue()
    console.client.on("zone_mute", mutes.put, namespace=NAMESPACE)
    console.connect()
    console.hello.get(timeout=5)

    url = f"{live_server.url}/api/v1/dispatch/zones/{patong}/mute"
    response = requests.post(url, json={"minutes": 60, "reason": "red flags"}, headers=bearer(token), timeout=10)
    assert response.status_code == 201, response.text
    event = mutes.get(timeout=5)
    assert set(event) == {"zone_id", "zone_name", "until", "by"}
    assert (event["zone_id"], event["zone_name"], event["by"]) == (patong, "Patong Beach rip currents", username)
    until = datetime.fromisoformat(event["until"])
    assert timedelta(minutes=59) < until - datetime.now(UTC) <= timedelta(minutes=60)
    assert until == datetime.fromisoformat(response.json()["until"])

    card_id = factories.card()
    sos = requests.post(f"{live_server.url}/api/v1/dispatch/incidents", headers=bearer(token), timeout=10,
                        json={"card_id": card_id, "kind": "sos", "lat": 7.89693, "lon": 98.29098})
    assert sos.status_code == 201
    incident = console.next_incident(timeout=5)
    assert incident["id"] == sos.json()["id"] and incident["muted"] is False  # an SOS is never muted

    refused = requests.post(url, json={"minutes": 1, "reason": "x"}, headers=bearer(token), timeout=10)
    assert refused.status_code == 422
    assert requests.delete(url, headers=bearer(token), timeout=10).status_code == 204
    lifted = mutes.get(timeout=5)
    assert lifted == {"zone_id": patong, "zone_name": "Patong Beach rip currents", "until": None, "by": username}
    with pytest.raises(queue.Empty):  # a refused mute and a second unmute (nothing in force) emit nothing
        requests.delete(url, headers=bearer(token), timeout=10)
        mutes.get(timeout=1.5)
