"""Several processes, one 191 center: events raised anywhere reach every dispatcher through Redis.

Two ``python wsgi.py`` servers share one PostGIS database and a real Redis (a channel of this
test's own); a console connected to server A receives what server B and a third, non-server
process (as ``flask sweep`` or a worker would) raise.
"""

from __future__ import annotations

import pytest
import redis
import requests

from tests.dispatch.conftest import bearer

pytestmark = pytest.mark.slow

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """This module runs on PostGIS only: the production multi-process set-up."""
    return postgres_url


@pytest.fixture
def app_config(redis_channel: str) -> dict:
    """This test process emits through the same Redis channel as the servers."""
    return {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "SOCKETIO_CHANNEL": redis_channel}


def test_events_from_any_process_reach_dispatchers_on_every_server(app, auth, factories, start_server, consoles,
                                                                    redis_channel):
    redis.Redis.from_url(REDIS_URL).close()  # Redis must be up: a failure here is a failure, not a skip
    queue_env = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL, "SOCKETIO_CHANNEL": redis_channel}
    server_a = start_server("a", **queue_env)
    server_b = start_server("b", **queue_env)
    token = auth.token("dispatcher")
    card_id = factories.card(full_name="Olga Ivanova", nationality="RUS", language="ru")
    on_a = consoles(server_a.url, token).connect()
    on_b = consoles(server_b.url, token).connect()

    # an SOS raised through server B's HTTP API reaches the console on server A (and on B)
    response = requests.post(f"{server_b.url}/api/v1/dispatch/incidents", headers=bearer(token), timeout=10,
                             json={"card_id": card_id, "kind": "sos", "lat": 7.8235, "lon": 98.3080})
    assert response.status_code == 201, response.text
    incident_id = response.json()["id"]
    for console in (on_a, on_b):
        event = console.next_incident(timeout=2)
        assert (event["id"], event["event"], event["tourist"]["full_name"]) == (incident_id, "created", "Olga Ivanova")
        assert console.drain_incidents(wait=0.5) == []  # exactly once, not once per server

    # acknowledged through server A: the console on B hears it
    ack = requests.post(f"{server_a.url}/api/v1/dispatch/incidents/{incident_id}/acknowledge",
                        headers=bearer(token), timeout=10)
    assert ack.status_code == 200
    assert on_b.next_incident(timeout=2)["status"] == "acknowledged"
    assert on_a.next_incident(timeout=2)["status"] == "acknowledged"

    # raised in a process that serves nobody (this test process, like `flask sweep` or a worker)
    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident
    from backend.extensions import db

    with app.app_context():
        overdue, created = raise_incident(card_id=card_id, kind=IncidentKind.OVERDUE, severity=Severity.HIGH,
                                          detail={"silent_for_s": 4000})
        db.session.commit()
        overdue_id = overdue.id
    assert created
    for console in (on_a, on_b):
        event = console.next_incident(timeout=2)
        assert (event["id"], event["kind"], event["event"]) == (overdue_id, "overdue", "created")
