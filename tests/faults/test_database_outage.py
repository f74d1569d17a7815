"""``python wsgi.py`` (gunicorn, gevent) losing PostgreSQL: clear 503s in time, nothing acknowledged lost.

The contract: when the database cannot be reached or does not answer, every request that needs it
gets ``503 {code, message}`` with ``Retry-After`` within 5 s — never a 500, never a hang;
``GET /healthz`` answers within 2 s (503 meanwhile); the service recovers by itself.

The service reaches PostGIS through :class:`tests.faults.proxy.TcpProxy`, which cuts (closes every
connection, refuses new ones) or blackholes (holds every connection, answers nothing). The test's
own checks read the database directly.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

pytestmark = pytest.mark.slow

REQUEST_LIMIT_S = 5.0
HEALTH_LIMIT_S = 2.0
PASSWORD = "outage-pass-123"


def _now_iso(delta_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat().replace("+00:00", "Z")


def _ping() -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "lat": 7.8961, "lon": 98.2960, "recorded_at": _now_iso(-30)}


@dataclass
class Answer:
    """One HTTP exchange as the client saw it."""

    what: str
    status: int | None
    elapsed: float
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    error: str | None = None


class Service:
    """The live server, its enrolled phones and a signed-in dispatcher."""

    def __init__(self, url: str, phones: list[dict[str, str]], auth) -> None:  # noqa: ANN001
        self.url = url
        self.phones = phones
        auth.user("dispatcher", username="dispatcher.outage", password=PASSWORD)
        answer = self.login()
        assert answer.status == 200, answer
        self.staff = {"Authorization": f"Bearer {answer.body['access_token']}"}

    def call(self, what: str, method: str, path: str, **kwargs: Any) -> Answer:
        """One request, timed; a hang shows as the client's own 30 s timeout."""
        started = time.monotonic()
        try:
            response = requests.request(method, self.url + path, timeout=30, **kwargs)
        except requests.RequestException as exc:
            return Answer(what, None, time.monotonic() - started, error=repr(exc))
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Answer(what, response.status_code, time.monotonic() - started, dict(response.headers), body)

    def healthz(self) -> Answer:
        """``GET /healthz``."""
        return self.call("healthz", "GET", "/healthz")

    def sos(self, phone: dict[str, str], sos_id: str) -> Answer:
        """The phone's SOS with ``sos_id`` (the app sends the same id until it is answered)."""
        body = {"id": sos_id, "lat": 7.8200, "lon": 98.2990, "recorded_at": _now_iso(-5), "category": "medical"}
        return self.call(f"sos {sos_id}", "POST", "/api/v1/mobile/sos", json=body, headers=phone["headers"])

    def login(self) -> Answer:
        """A staff sign-in."""
        return self.call("login", "POST", "/api/v1/auth/login",
                         json={"username": "dispatcher.outage", "password": PASSWORD})

    def incidents(self) -> Answer:
        """A protected resource: the 191 center's incident list."""
        return self.call("incidents", "GET", "/api/v1/dispatch/incidents", headers=self.staff)

    def pings(self, phone: dict[str, str], pings: list[dict[str, Any]]) -> Answer:
        """A batch of pings."""
        return self.call("pings", "POST", "/api/v1/mobile/pings", json={"pings": pings}, headers=phone["headers"])

    def wait_healthy(self, within: float = 15) -> float:
        """Seconds until ``/healthz`` is 200 again (the service recovers by itself)."""
        started = time.monotonic()
        while (answer := self.healthz()).status != 200:
            assert answer.elapsed < HEALTH_LIMIT_S, answer
            assert time.monotonic() - started < within, f"not healthy {within} s after the database came back"
            time.sleep(0.2)
        return time.monotonic() - started


@pytest.fixture
def service(app, client, factories, auth, start_server, proxied_url) -> Service:
    """``python wsgi.py`` on the test's database through the proxy; three enrolled phones; a dispatcher."""
    server = start_server("outage", DATABASE_URL=proxied_url)
    phones = []
    for number in range(3):
        card = factories.issued_card(full_name=f"Tourist {number}")
        response = client.post("/api/v1/mobile/enroll", json={
            "card_id": card["card_id"], "enrollment_code": card["enrollment_code"], "platform": "android"})
        assert response.status_code == 201, response.get_json()
        phones.append({"card_id": card["card_id"],
                       "headers": {"Authorization": f"Bearer {response.get_json()['device_token']}"}})
    return Service(server.url, phones, auth)


def _assert_refused_in_time(answer: Answer) -> None:
    if answer.what == "healthz":
        assert answer.status == 503 and answer.body["status"] == "unavailable", answer
        assert answer.elapsed < HEALTH_LIMIT_S, answer
        return
    assert answer.status == 503, answer
    assert answer.elapsed < REQUEST_LIMIT_S, answer
    assert int(answer.headers["Retry-After"]) > 0, answer
    assert answer.body["code"] == 503 and answer.body["message"], answer


def _signals(app, client_ids: set[str]) -> dict[str, int]:  # noqa: ANN001
    from backend.dispatch.models import SosSignal
    from backend.extensions import db

    with app.app_context():
        rows = db.session.execute(select(SosSignal.client_id, func.count()).where(SosSignal.client_id.in_(client_ids))
                                  .group_by(SosSignal.client_id)).all()
        db.session.remove()
    return dict(rows)


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
def test_a_lost_database_is_a_503_within_5_s_and_the_service_recovers_by_itself(app, service, db_proxy, fault):
    """SOS, a staff sign-in, a protected resource and /healthz (pings: the next test)."""
    # before: all well, and the pool holds open connections (a blackhole then holds them)
    sent: dict[str, dict[str, str]] = {}  # SOS id -> its phone
    acknowledged: dict[str, int] = {}  # SOS id -> the status that acknowledged it
    first = str(uuid.uuid4())
    sent[first] = service.phones[0]
    answer = service.sos(service.phones[0], first)
    assert answer.status == 201, answer
    acknowledged[first] = 201
    assert service.incidents().status == 200
    assert service.pings(service.phones[1], [_ping()]).status == 200

    getattr(db_proxy, fault)()
    for _ in range(2):  # the first wave meets the pooled connections, the second a database still away
        jobs: list[Any] = []
        with ThreadPoolExecutor(max_workers=24) as pool:
            for phone in service.phones:
                for _ in range(2):
                    sos_id = str(uuid.uuid4())
                    sent[sos_id] = phone
                    jobs.append(pool.submit(service.sos, phone, sos_id))
            jobs += [pool.submit(service.healthz) for _ in range(3)]
            jobs += [pool.submit(service.login) for _ in range(3)]
            jobs += [pool.submit(service.incidents) for _ in range(3)]
        for job in jobs:
            answer = job.result()
            _assert_refused_in_time(answer)
            if answer.status in (200, 201) and answer.what.startswith("sos"):
                acknowledged[answer.what.split()[1]] = answer.status

    db_proxy.forward()
    recovered_in = service.wait_healthy()
    assert recovered_in < 10
    # the phones send what was not answered again, with the same ids
    for sos_id, phone in sent.items():
        if sos_id not in acknowledged:
            answer = service.sos(phone, sos_id)
            assert answer.status in (200, 201), answer  # 200: joined the card's open SOS (or stored meanwhile)
            acknowledged[sos_id] = answer.status
    assert service.login().status == 200
    assert service.incidents().status == 200
    assert service.pings(service.phones[2], [_ping()]).status == 200

    # nothing acknowledged is lost or doubled
    assert _signals(app, set(sent)) == dict.fromkeys(sent, 1)


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
def test_pings_in_flight_when_the_database_goes_are_answered_in_time(app, service, db_proxy, fault):
    """Phones keep sending while the database goes away and comes back: every answer within 5 s."""
    from backend.extensions import db
    from backend.tracking.models import Ping

    answers: list[tuple[float, Answer, list[str]]] = []
    stop = threading.Event()

    def phone_loop(phone: dict[str, str]) -> None:
        while not stop.is_set():
            batch = [_ping() for _ in range(3)]
            answers.append((time.monotonic(), service.pings(phone, batch), [p["id"] for p in batch]))
            time.sleep(0.05)

    threads = [threading.Thread(target=phone_loop, args=(phone,)) for phone in service.phones for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        getattr(db_proxy, fault)()
        time.sleep(7)
        db_proxy.forward()
        service.wait_healthy()
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    statuses = [answer.status for _, answer, _ in answers]
    assert statuses.count(503) > 0, "the outage was not noticed"
    late = [answer for _, answer, _ in answers if answer.elapsed >= REQUEST_LIMIT_S]
    assert not late, f"{len(late)} ping requests took 5 s or longer: {late[:3]}"
    wrong = [answer for _, answer, _ in answers if answer.status not in (200, 503)]
    assert not wrong, wrong[:3]
    assert all("Retry-After" in answer.headers for _, answer, _ in answers if answer.status == 503)
    assert answers[-1][1].status == 200  # recovered by itself
    stored = [ping_id for _, answer, ids in answers if answer.status == 200 for ping_id in ids]
    with app.app_context():
        counts = dict(db.session.execute(select(Ping.client_id, func.count()).where(Ping.client_id.in_(stored))
                                         .group_by(Ping.client_id)).all())
        db.session.remove()
    assert counts == dict.fromkeys(stored, 1)  # every acknowledged ping stored, once
