"""SOS → dispatcher latency: a 191 console on Socket.IO and phones pressing SOS.

A :class:`Dispatcher` signs in (``POST /api/v1/auth/login``), connects a python-socketio client
to ``/dispatch`` with ``auth={"token": ...}`` over WebSocket and notes when each ``incident``
event of kind ``sos`` arrives (by card). :class:`SosSender` presses SOS on different devices,
spread over a time window (while the ping load runs), each a new HTTP connection as a phone would
open; for each it keeps when the request was sent, when the ``201`` came and when the dispatcher
heard of it.
"""

from __future__ import annotations

import http.client
import json
import math
import random
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import socketio

from bench.pings import AREAS

NAMESPACE = "/dispatch"


def login(base_url: str, username: str, password: str) -> str:
    """A staff access token."""
    request = urllib.request.Request(f"{base_url}/api/v1/auth/login", method="POST",
                                     data=json.dumps({"username": username, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["access_token"]


class Dispatcher:
    """A console connected to ``/dispatch`` that timestamps every SOS incident event it receives."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url, self.token = base_url, token
        self.client = socketio.Client(reconnection=False)
        self.lock = threading.Lock()
        self.sos_seen: dict[str, float] = {}  # card id -> perf_counter() of its first sos event
        self.events = 0
        self.client.on("incident", self._on_incident, namespace=NAMESPACE)

    def _on_incident(self, payload: dict) -> None:
        now = time.perf_counter()
        with self.lock:
            self.events += 1
            if isinstance(payload, dict) and payload.get("kind") == "sos":
                self.sos_seen.setdefault(str(payload.get("card_id")), now)

    def connect(self) -> None:
        """Connect over WebSocket (raises when refused)."""
        self.client.connect(self.base_url, namespaces=[NAMESPACE], transports=["websocket"],
                            auth={"token": self.token}, wait_timeout=15)

    def seen(self, card_id: str) -> float | None:
        """When the SOS event of ``card_id`` arrived (perf_counter), or None."""
        with self.lock:
            return self.sos_seen.get(card_id)

    def wait_for(self, card_ids: list[str], timeout_s: float) -> None:
        """Wait until every card's SOS event arrived, or ``timeout_s``."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            with self.lock:
                if all(c in self.sos_seen for c in card_ids):
                    return
            time.sleep(0.05)

    def close(self) -> None:
        """Disconnect."""
        if self.client.connected:
            self.client.disconnect()


@dataclass
class SosPress:
    """One SOS: its card and, as perf_counter() values, when it was sent and answered."""

    card_id: str
    sent: float
    answered: float | None = None
    status: int | None = None
    error: str | None = None


def press_sos(host: str, port: int, token: str, card_id: str, rng: random.Random) -> SosPress:
    """One SOS on a new connection; returns when the answer came."""
    (lat, lon), jitter = rng.choice(AREAS)
    body = json.dumps({"id": str(uuid.uuid4()), "lat": round(lat + rng.uniform(-jitter, jitter), 6),
                       "lon": round(lon + rng.uniform(-jitter, jitter), 6),
                       "recorded_at": datetime.now(UTC).isoformat(), "accuracy_m": 15.0, "category": "medical",
                       "note": "bench"})
    connection = http.client.HTTPConnection(host, port, timeout=15)
    press = SosPress(card_id=card_id, sent=time.perf_counter())
    try:
        connection.request("POST", "/api/v1/mobile/sos", body=body,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        press.answered, press.status = time.perf_counter(), response.status
    except OSError as exc:
        press.error = f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
    return press


@dataclass
class SosSender:
    """Press SOS once on each ``(card_id, token)``, evenly spread over ``window_s``, in a thread."""

    host: str
    port: int
    devices: list[tuple[str, str]]
    window_s: float
    presses: list[SosPress] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> None:
        """Start pressing (returns at once)."""
        self.thread = threading.Thread(target=self._run, name="bench-sos", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        rng = random.Random(7)
        start = time.perf_counter()
        gap = self.window_s / max(1, len(self.devices))
        for i, (card_id, token) in enumerate(self.devices):
            delay = start + i * gap - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.presses.append(press_sos(self.host, self.port, token, card_id, rng))

    def join(self, timeout_s: float) -> None:
        """Wait for the last press to be answered (bounded)."""
        if self.thread is not None:
            self.thread.join(timeout_s)


def percentiles(values_s: list[float]) -> dict[str, float | None]:
    """p50, p99 and max in milliseconds (nearest rank)."""
    if not values_s:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values_s)

    def rank(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * q / 100) - 1))], 1)

    return {"p50_ms": rank(50), "p99_ms": rank(99), "max_ms": round(1000 * ordered[-1], 1)}


def summarize(presses: list[SosPress], dispatcher: Dispatcher) -> dict:
    """Statuses, SOS HTTP latency, and request→event and answer→event latency (with the missing)."""
    statuses: dict[str, int] = {}
    http_s, from_send, from_answer, missing = [], [], [], []
    for press in presses:
        key = str(press.status) if press.status is not None else "error"
        statuses[key] = statuses.get(key, 0) + 1
        if press.answered is not None:
            http_s.append(press.answered - press.sent)
        seen = dispatcher.seen(press.card_id)
        if seen is None:
            missing.append(press.card_id)
            continue
        from_send.append(seen - press.sent)
        if press.answered is not None:
            from_answer.append(seen - press.answered)  # negative: the event came before the 201
    return {"sent": len(presses), "statuses": dict(sorted(statuses.items())),
            "errors": [p.error for p in presses if p.error][:5],
            "received": len(from_send), "missing": len(missing), "missing_cards": missing[:10],
            "http": percentiles(http_s), "send_to_event": percentiles(from_send),
            "answer_to_event": percentiles(from_answer)}
