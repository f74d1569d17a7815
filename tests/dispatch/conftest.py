"""Real server processes (``python wsgi.py``) and real Socket.IO clients for the 191 center's tests."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import socketio

from tests.live_server import LiveServer

NAMESPACE = "/dispatch"


@pytest.fixture
def live_server(start_server) -> LiveServer:
    """One server process (no message queue)."""
    return start_server()


class Console:
    """A python-socketio client on ``/dispatch`` that records what it receives."""

    def __init__(self, url: str, token: str | None) -> None:
        self.client = socketio.Client(reconnection=False)
        self.incidents: queue.Queue[dict[str, Any]] = queue.Queue()
        self.positions: queue.Queue[dict[str, Any]] = queue.Queue()
        self.hello: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client.on("incident", self.incidents.put, namespace=NAMESPACE)
        self.client.on("positions", self.positions.put, namespace=NAMESPACE)
        self.client.on("hello", self.hello.put, namespace=NAMESPACE)
        self.url, self.token = url, token

    def connect(self) -> Console:
        """Connect over WebSocket with the token (raises socketio.exceptions.ConnectionError when refused)."""
        self.client.connect(self.url, namespaces=[NAMESPACE], transports=["websocket"],
                            auth=None if self.token is None else {"token": self.token}, wait_timeout=10)
        return self

    def call(self, event: str, data: Any) -> Any:
        """Emit and wait for the server's acknowledgement."""
        return self.client.call(event, data, namespace=NAMESPACE, timeout=20)

    def next_incident(self, timeout: float = 5) -> dict[str, Any]:
        """The next ``incident`` event (fails the test after ``timeout`` seconds)."""
        try:
            return self.incidents.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no incident event within {timeout} s") from None

    def drain_incidents(self, wait: float = 0.5) -> list[dict[str, Any]]:
        """Every ``incident`` event that arrives within ``wait`` seconds of the last one."""
        events = []
        while True:
            try:
                events.append(self.incidents.get(timeout=wait))
            except queue.Empty:
                return events

    def close(self) -> None:
        """Disconnect."""
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def consoles() -> Iterator:
    """Make Socket.IO consoles; every one is disconnected after the test."""
    made: list[Console] = []

    def make(url: str, token: str | None) -> Console:
        console = Console(url, token)
        made.append(console)
        return console

    yield make
    for console in made:
        console.close()


@pytest.fixture
def redis_channel() -> str:
    """A Socket.IO channel on the shared Redis that no other test run uses."""
    return f"pts-test-{uuid.uuid4().hex}"


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a staff token."""
    return {"Authorization": f"Bearer {token}"}
