"""``boat_overdue`` is an incident of the trip, not of a passenger: no card, raised whoever is aboard.

One per trip across sweeps, concurrent sweeps (two app contexts racing past the lease) and two
``flask sweep`` processes; the list, ``q`` (the vessel, who is aboard), stats, the detail's manifest, the outbox (no tourist
message) and the realtime relay to a console of a live server all take a card-less boat_overdue.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from backend.dispatch.models import Incident
from backend.extensions import db
from backend.models_base import utcnow
from tests.dispatch.conftest import NAMESPACE  # noqa: F401 (the consoles' namespace, used by the fixture)
from tests.marine.conftest import act, board, iso, new_trip

ROOT = Path(__file__).resolve().parents[2]


def _boat_overdue(app) -> list[Incident]:  # noqa: ANN001
    with app.app_context():
        rows = list(db.session.scalars(select(Incident).where(Incident.kind == "boat_overdue").order_by(Incident.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _late_trip(client, marine, vessel: str = "Empty Promise") -> dict:  # noqa: ANN001
    """A trip of operator A that left six hours ago, due back five hours ago (past the 30 min grace)."""
    trip = new_trip(client, marine.crew_a, vessel_name=vessel, vessel_registration="PKT-9001", pier="AO_CHALONG",
                    destination="Coral Island", departs_at=iso(-6 * 3600), returns_by=iso(-5 * 3600))
    assert act(client, trip["id"], "depart", marine.crew_a).status_code == 200
    return trip


def test_an_empty_boat_that_is_late_raises_one_cardless_boat_overdue(app, client, runner, marine, factories):
    from notifications.models import OutboxMessage

    trip = _late_trip(client, marine)  # nobody scanned aboard: only the crew
    crowded = _late_trip(client, marine, vessel="Full House")
    aboard = factories.issued_card(full_name="Olga Petrova", nationality="RUS", phone="+7 912 345 6789")
    # boarding happens before departure: a third, late trip with one passenger
    with_people = new_trip(client, marine.crew_a, vessel_name="Racha Runner", pier="AO_CHALONG",
                           destination="Racha Yai", departs_at=iso(-6 * 3600), returns_by=iso(-5 * 3600))
    assert board(client, with_people["id"], marine.crew_a, card_token=aboard["card_token"]).status_code == 201
    assert act(client, with_people["id"], "depart", marine.crew_a).status_code == 200
    with app.app_context():
        outbox_before = db.session.scalar(select(func.count()).select_from(OutboxMessage))

    first = runner.invoke(args=["sweep"])
    assert first.exit_code == 0 and "boat_overdue: 3 boats overdue" in first.output, first.output
    second = runner.invoke(args=["sweep"])
    assert second.exit_code == 0 and "boat_overdue: 0 boats overdue" in second.output, second.output
    raised = _boat_overdue(app)
    assert sorted(i.trip_id for i in raised) == sorted([trip["id"], crowded["id"], with_people["id"]])
    assert {i.card_id for i in raised} == {None}  # the trip's incident, also with a passenger aboard
    assert {i.severity for i in raised} == {"critical"} and {i.status for i in raised} == {"new"}
    with app.app_context():  # nobody's phone is told (the passengers aboard get no message either)
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == outbox_before

    empty = next(i for i in raised if i.trip_id == trip["id"])
    detail = client.get(f"/api/v1/dispatch/incidents/{empty.id}", headers=marine.dispatcher)
    assert detail.status_code == 200, detail.get_json()
    body = detail.get_json()
    assert body["card_id"] is None and body["tourist"] is None and body["kind"] == "boat_overdue"
    assert body["trip"]["id"] == trip["id"] and body["trip"]["vessel_name"] == "Empty Promise"
    assert body["trip"]["passengers_aboard"] == 0 and body["manifest"] == []
    assert body["track"] == []
    assert body["timeline"][0]["kind"] == "created" and body["timeline"][0]["text"]
    assert "Empty Promise" in body["note"]

    people = next(i for i in raised if i.trip_id == with_people["id"])
    detail = client.get(f"/api/v1/dispatch/incidents/{people.id}", headers=marine.dispatcher).get_json()
    assert detail["tourist"] is None and detail["trip"]["passengers_aboard"] == 1
    assert [(p["card_id"], p["full_name"], p["nationality"], p["phone"]) for p in detail["manifest"]] == [
        (aboard["card_id"], "Olga Petrova", "RUS", "+7 912 345 6789")]

    listed = client.get("/api/v1/dispatch/incidents?kind=boat_overdue&status=open", headers=marine.dispatcher)
    assert listed.status_code == 200
    items = {i["id"]: i for i in listed.get_json()["items"]}
    assert set(items) == {i.id for i in raised}
    assert items[empty.id]["tourist"] is None and items[empty.id]["trip"]["vessel_name"] == "Empty Promise"
    # q finds a card-less boat_overdue by its vessel's name or registration, or by who is on its manifest
    crowded_id = next(i.id for i in raised if i.trip_id == crowded["id"])
    for q, expected in (("Olga", {people.id}), ("олга", set()), ("empty prom", {empty.id}),
                        ("pkt-9001", {empty.id, crowded_id}), ("+7 912 345 6789", {people.id}),
                        ("Racha", {people.id}), ("+66 81 234 5678", set()), ("PTS-0000-0000", set()),
                        ("%", set())):
        found = client.get("/api/v1/dispatch/incidents", headers=marine.dispatcher,
                           query_string={"status": "any", "q": q})
        assert found.status_code == 200, (q, found.get_json())
        assert {i["id"] for i in found.get_json()["items"]} == expected, q
    stats = client.get("/api/v1/dispatch/stats", headers=marine.dispatcher)
    assert stats.status_code == 200, stats.get_json()
    assert stats.get_json()["incidents"]["by_kind"]["boat_overdue"] == 3

    # the 191 center works it like any incident; the boat comes back: the timeline says so, and no second one
    ack = client.post(f"/api/v1/dispatch/incidents/{empty.id}/acknowledge", headers=marine.dispatcher, json={})
    assert ack.status_code == 200, ack.get_json()
    assert act(client, trip["id"], "return", marine.crew_a).status_code == 200
    detail = client.get(f"/api/v1/dispatch/incidents/{empty.id}", headers=marine.dispatcher).get_json()
    assert detail["timeline"][-1]["kind"] == "returned"
    with app.app_context():
        from backend.marine import service

        assert service.raise_overdue_boats(now=utcnow() + timedelta(hours=3)) == 0
        db.session.commit()
    assert len(_boat_overdue(app)) == 3
    trips = client.get("/api/v1/marine/trips", headers=marine.crew_a).get_json()["items"]
    assert {t["id"]: t["overdue"] for t in trips} == {trip["id"]: True, crowded["id"]: True,
                                                     with_people["id"]: True}


def test_concurrent_sweeps_raise_one_boat_overdue_per_trip(app, client, marine):
    """Two sweeps at once (past the lease, as two schedulers whose leases overlapped): one incident per trip."""
    from backend.marine import service

    trips = [_late_trip(client, marine, vessel=f"Twin {n}") for n in range(3)]
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                counts.append(service.raise_overdue_boats())
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(counts) == [0, 3], counts  # the event-log lock (PostgreSQL), the write lock (SQLite): one after the other
    raised = _boat_overdue(app)
    assert sorted(i.trip_id for i in raised) == sorted(t["id"] for t in trips)


def _sweep_process(app, tmp_path: Path, name: str) -> subprocess.Popen:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if k not in ("SOCKETIO_MESSAGE_QUEUE", "SOCKETIO_CHANNEL")}
    env.update({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
                "CARD_KEYS_DIR": app.config["CARD_KEYS_DIR"], "INSTANCE_PATH": str(tmp_path / f"instance-{name}"),
                "RUN_PERIODIC_JOBS": "0", "LOG_LEVEL": "WARNING", "ARGON2_CHEAP_FOR_TESTS": "1"})
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "sweep"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_sweep_processes_raise_one_and_the_console_gets_it(app, client, auth, marine, tmp_path, live_server,
                                                                consoles):
    trip = _late_trip(client, marine, vessel="Night Owl")
    console = consoles(live_server.url, auth.token("dispatcher"))
    console.connect()
    console.hello.get(timeout=10)

    processes = [_sweep_process(app, tmp_path, name) for name in ("one", "two")]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    # one process held the sweep's lease and raised it; the other found the lease taken, or nothing left to raise
    assert sum("boat_overdue: 1 boats overdue" in out for out in outputs) == 1, outputs
    assert all("boat_overdue: 1 boats overdue" in out or "another process is running" in out
               or "boat_overdue: 0 boats overdue" in out for out in outputs), outputs
    [incident] = _boat_overdue(app)
    assert incident.trip_id == trip["id"] and incident.card_id is None

    # the live server relays the sweep process's incident to its console: no tourist, the trip
    deadline = 30
    while True:
        event = console.incidents.get(timeout=deadline)
        if event.get("kind") == "boat_overdue":
            break
    assert event["id"] == incident.id and event["tourist"] is None and event["card_id"] is None
    assert event["trip"]["id"] == trip["id"] and event["trip"]["vessel_name"] == "Night Owl"
