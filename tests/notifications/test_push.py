"""Push delivery through the outbox, driving firebase-admin for real against a local FCM stand-in."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.notifications.conftest import ACCESS_TOKEN, PROJECT_ID, outbox_rows, unavailable, unregistered


@pytest.fixture
def app_config(fcm_config):
    """Every test here pushes through firebase-admin to the local stand-in."""
    return fcm_config


def raise_sos(app, card_id: str) -> int:
    """An SOS incident for ``card_id`` through the dispatch service (committed)."""
    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident
    from backend.extensions import db

    with app.app_context():
        incident, _ = raise_incident(card_id=card_id, kind=IncidentKind.SOS, severity=Severity.CRITICAL,
                                     lat=7.8961, lon=98.2966, category="medical")
        db.session.commit()
        return incident.id


def sweep(runner) -> str:
    """One pass of the periodic jobs through the real CLI (``flask`` pushes the app context)."""
    with runner.app.app_context():
        result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    return result.output


def test_sos_received_reaches_the_phone_as_a_real_fcm_v1_message(app, runner, fcm, tourists):
    tourist = tourists.add(lat=7.8961, lon=98.2966, language="ru")
    incident_id = raise_sos(app, tourist["card_id"])
    [queued] = outbox_rows(app, card_id=tourist["card_id"])
    assert queued.status == "pending" and queued.topic == "sos_received" and queued.language == "ru"

    assert "push: sent 1" in sweep(runner)

    [message] = fcm.sends()
    assert message["token"] == tourist["tokens"][0]
    assert message["notification"] == {"title": "Сигнал SOS получен", "body": queued.body}
    assert "191" in message["notification"]["body"]
    assert message["data"]["topic"] == "sos_received"
    assert message["data"]["incident_id"] == str(incident_id)
    assert message["data"]["message_id"] == str(queued.id)
    assert all(isinstance(v, str) for v in message["data"].values())
    assert message["android"]["priority"] == "high"
    assert message["apns"]["headers"]["apns-priority"] == "10"
    call = fcm.calls[0]
    assert call.path == f"/v1/projects/{PROJECT_ID}/messages:send"
    assert call.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert fcm.token_requests and "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in \
        fcm.token_requests[0]

    [sent] = outbox_rows(app, card_id=tourist["card_id"])
    assert sent.status == "sent" and sent.attempts == 1 and sent.sent_at is not None
    assert sent.provider_message_id.startswith(f"projects/{PROJECT_ID}/messages/")

    # nothing is sent twice
    sweep(runner)
    sweep(runner)
    assert len(fcm.sends()) == 1


def test_sos_lifecycle_messages_in_the_tourists_language(app, runner, fcm, tourists):
    from backend.dispatch.models import Incident, IncidentStatus
    from backend.dispatch.service import transition
    from backend.extensions import db

    tourist = tourists.add(lat=7.8961, lon=98.2966, language="zh")
    incident_id = raise_sos(app, tourist["card_id"])
    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        transition(incident, IncidentStatus.ACKNOWLEDGED, actor="dispatcher1")
        transition(incident, IncidentStatus.DISPATCHED, actor="dispatcher1", unit="Patong Rescue 12")
        db.session.commit()
    sweep(runner)
    sends = sorted(fcm.sends(), key=lambda m: int(m["data"]["message_id"]))  # sent concurrently
    assert [m["notification"]["title"] for m in sends] == ["已收到SOS求救", "您的SOS正在处理中", "救援正在赶来"]
    assert "Patong Rescue 12" in sends[2]["notification"]["body"]
    assert [m["data"]["status"] for m in sends] == ["new", "acknowledged", "dispatched"]


def test_every_device_of_the_card_gets_its_own_message_once(app, runner, fcm, tourists):
    tourist = tourists.add(lat=7.8961, lon=98.2966, language="en", devices=2)
    raise_sos(app, tourist["card_id"])
    sweep(runner)
    sweep(runner)
    assert sorted(m["token"] for m in fcm.sends()) == sorted(tourist["tokens"])


def test_unregistered_token_is_removed_from_its_device_and_the_message_dropped(app, runner, fcm, tourists):
    from backend.extensions import db
    from backend.tracking.models import Device

    tourist = tourists.add(lat=7.8961, lon=98.2966)
    fcm.answer(tourist["tokens"][0], unregistered())
    raise_sos(app, tourist["card_id"])
    sweep(runner)

    [row] = outbox_rows(app, card_id=tourist["card_id"])
    assert row.status == "dropped" and "Requested entity was not found" in row.last_error
    with app.app_context():
        assert db.session.get(Device, tourist["device_ids"][0]).push_token is None
    # no further attempts, and the next message for this card stays in the inbox, unpushed
    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident

    with app.app_context():
        raise_incident(card_id=tourist["card_id"], kind=IncidentKind.LEFT_AREA, severity=Severity.HIGH)
        db.session.commit()
    sweep(runner)
    assert len(fcm.sends()) == 1
    assert [r.status for r in outbox_rows(app, card_id=tourist["card_id"])] == ["dropped", "held"]


def test_a_new_token_registered_meanwhile_is_not_cleared(app, fcm, tourists):
    from backend.extensions import db
    from backend.tracking.models import Device
    from notifications.outbox import forget_token

    tourist = tourists.add()
    with app.app_context():
        device = db.session.get(Device, tourist["device_ids"][0])
        device.push_token = "fresh-token"
        db.session.commit()
        forget_token(device_id=device.id, token=tourist["tokens"][0])
        db.session.commit()
        assert db.session.get(Device, device.id).push_token == "fresh-token"


@pytest.mark.parametrize("failure", [unavailable(503, retry_after=120), unavailable(500), unavailable(502)])
def test_a_5xx_is_retried_later_with_backoff_and_then_sent_once(app, runner, fcm, tourists, failure):
    from backend.extensions import db
    from backend.models_base import utcnow
    from notifications.models import OutboxMessage

    tourist = tourists.add(lat=7.8961, lon=98.2966)
    token = tourist["tokens"][0]
    fcm.answer(token, failure, (200, {"name": f"projects/{PROJECT_ID}/messages/ok-1"}, {}))
    raise_sos(app, tourist["card_id"])
    before = utcnow()
    sweep(runner)

    assert len(fcm.sends()) == 1  # one request: the outbox retries, not the SDK in a loop
    [row] = outbox_rows(app, card_id=tourist["card_id"])
    assert row.status == "pending" and row.attempts == 1
    assert "UNAVAILABLE" in row.last_error or "INTERNAL" in row.last_error
    wait = (row.next_attempt_at - before).total_seconds()
    if failure[2].get("Retry-After"):
        assert wait >= 120  # Retry-After honoured
    else:
        assert 25 <= wait <= 60  # first backoff step

    sweep(runner)  # not due yet: nothing is sent
    assert len(fcm.sends()) == 1

    with app.app_context():  # time passes
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    sweep(runner)
    sweep(runner)
    assert len(fcm.sends()) == 2
    [row] = outbox_rows(app, card_id=tourist["card_id"])
    assert row.status == "sent" and row.attempts == 2 and row.provider_message_id.endswith("ok-1")


def test_backoff_grows_exponentially_and_gives_up(app, fcm, tourists):
    from backend.extensions import db
    from backend.models_base import utcnow
    from notifications import outbox
    from notifications.models import OutboxMessage

    tourist = tourists.add(lat=7.8961, lon=98.2966)
    fcm.answer(tourist["tokens"][0], unavailable(500))
    raise_sos(app, tourist["card_id"])
    waits = []
    with app.app_context():
        for _ in range(outbox.MAX_ATTEMPTS):
            outbox.deliver_due()
            answered = utcnow()
            row = db.session.scalars(db.select(OutboxMessage)).one()
            if row.status == "pending":
                waits.append((row.next_attempt_at - answered).total_seconds())
                row.next_attempt_at = utcnow() - timedelta(seconds=1)
                db.session.commit()
        assert row.status == "failed" and row.attempts == outbox.MAX_ATTEMPTS
        assert "gave up" in row.last_error
    expected = [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]  # doubling, capped at an hour
    assert all(e - 3 <= w <= e for w, e in zip(waits, expected, strict=True)), waits
    assert len(fcm.sends()) == outbox.MAX_ATTEMPTS


def test_a_message_for_a_device_without_token_is_held_for_the_inbox(app, runner, fcm, tourists):
    tourist = tourists.add(lat=7.8961, lon=98.2966, push_token=None)
    raise_sos(app, tourist["card_id"])
    sweep(runner)
    [row] = outbox_rows(app, card_id=tourist["card_id"])
    assert row.status == "held" and fcm.sends() == []


def test_a_rolled_back_incident_leaves_no_message(app, tourists):
    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident
    from backend.extensions import db

    tourist = tourists.add(lat=7.8961, lon=98.2966)
    with app.app_context():
        raise_incident(card_id=tourist["card_id"], kind=IncidentKind.SOS, severity=Severity.CRITICAL)
        db.session.rollback()
    assert outbox_rows(app, card_id=tourist["card_id"]) == []


def test_concurrent_sweep_processes_never_send_a_message_twice(app, fcm, fcm_config, tourists, tmp_path):
    """Two ``flask sweep`` processes at once (cron beside the server): each message goes out once."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    cards = [tourists.add(lat=7.8961, lon=98.2966) for _ in range(3)]
    for tourist in cards:
        raise_sos(app, tourist["card_id"])
    fcm.delay_s = 2.0  # the first sweep is still sending when the other one starts
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
           "CARD_KEYS_DIR": str(tmp_path / "keys"), "INSTANCE_PATH": str(tmp_path / "instance"),
           "RUN_PERIODIC_JOBS": "0", "LOG_LEVEL": "WARNING", **fcm_config}
    sweeps = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "sweep"], cwd=root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in sweeps]
    assert [p.returncode for p in sweeps] == [0, 0], outputs
    assert sorted(m["token"] for m in fcm.sends()) == sorted(t["tokens"][0] for t in cards), outputs
    assert all(r.status == "sent" and r.attempts == 1 for r in outbox_rows(app))


def test_skip_locked_claims_are_disjoint_on_postgresql(app, fcm, tourists):
    """Two delivery passes at once (without the sweep lease) share the work on PostgreSQL."""
    import threading

    from backend.database import is_postgres
    from backend.extensions import db
    from notifications.outbox import deliver_due

    with app.app_context():
        postgres = is_postgres()
    cards = [tourists.add(lat=7.8961, lon=98.2966) for _ in range(4)]
    for tourist in cards:
        raise_sos(app, tourist["card_id"])
    fcm.delay_s = 0.5
    barrier = threading.Barrier(2)

    def deliver(batch_size: int) -> None:
        with app.app_context():
            barrier.wait(10)
            deliver_due(batch_size=batch_size, max_batches=1)
            db.session.remove()

    if postgres:
        threads = [threading.Thread(target=deliver, args=(2,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(m["token"] for m in fcm.sends()) == sorted(t["tokens"][0] for t in cards)
    else:  # SQLite has one writer; the sweep's lease is what serialises delivery there
        barrier = threading.Barrier(1)
        deliver(10)
        assert len(fcm.sends()) == 4
    assert all(r.status == "sent" and r.attempts == 1 for r in outbox_rows(app))


def _wait_for_sends(fcm, count: int, timeout: float = 60) -> list[dict]:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sends = fcm.sends()
        if len(sends) >= count:
            return sends
        time.sleep(0.1)
    raise AssertionError(f"{len(fcm.sends())} push(es) reached FCM, expected {count}")


@pytest.mark.slow
def test_a_running_server_pushes_at_once_not_at_its_next_pass(app, auth, fcm, fcm_config, tourists, start_server):
    """The tourist hears "SOS received", then "acknowledged", in seconds; the server's pass is an hour away."""
    import uuid
    from datetime import UTC, datetime

    import requests

    tourist = tourists.add(lat=7.8961, lon=98.2966, language="th")
    phone = {"Authorization": f"Bearer {tourists.device_token(tourist['device_ids'][0])}"}
    server = start_server("push", RUN_PERIODIC_JOBS="1", SWEEP_INTERVAL_S="3600", **fcm_config)

    sos = requests.post(f"{server.url}/api/v1/mobile/sos", headers=phone, timeout=10, json={
        "id": str(uuid.uuid4()), "lat": 7.8961, "lon": 98.2966, "accuracy_m": 10, "category": "medical",
        "recorded_at": datetime.now(UTC).isoformat()})
    assert sos.status_code == 201, sos.text
    [received] = _wait_for_sends(fcm, 1)
    assert received["token"] == tourist["tokens"][0]
    assert received["data"]["topic"] == "sos_received" and received["data"]["language"] == "th"

    staff = {"Authorization": f"Bearer {auth.token('dispatcher')}"}
    incident_id = sos.json()["incident_id"]
    ack = requests.post(f"{server.url}/api/v1/dispatch/incidents/{incident_id}/acknowledge", headers=staff,
                        timeout=10)
    assert ack.status_code == 200, ack.text
    sends = _wait_for_sends(fcm, 2)
    assert [s["data"]["topic"] for s in sends] == ["sos_received", "sos_acknowledged"]
    # the server marks a row sent once FCM has answered: the fake FCM may be heard a moment before
    deadline = time.monotonic() + 60  # generous: a machine busy with the parallel suite is slow, not wrong
    while {row.status for row in outbox_rows(app, card_id=tourist["card_id"])} != {"sent"}:
        assert time.monotonic() < deadline, [row.status for row in outbox_rows(app, card_id=tourist["card_id"])]
        time.sleep(0.1)
