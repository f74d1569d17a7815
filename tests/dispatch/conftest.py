"""Real server processes (``python wsgi.py``) and real Socket.IO clients for the 191 center's tests."""

from __future__ import annotations

import queue
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import socketio

from tests.live_server import LiveServer, free_port

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
        self.syncs: queue.Queue[dict[str, Any]] = queue.Queue()
        self.disconnects: queue.Queue[Any] = queue.Queue()
        self.client.on("incident", self.incidents.put, namespace=NAMESPACE)
        self.client.on("positions", self.positions.put, namespace=NAMESPACE)
        self.client.on("hello", self.hello.put, namespace=NAMESPACE)
        self.client.on("sync", self.syncs.put, namespace=NAMESPACE)
        self.client.on("disconnect", self.disconnects.put, namespace=NAMESPACE)
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


class RedisServer:
    """A ``redis-server`` of the test's own on a free loopback port, to stop and start again (a queue outage)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        """Start it (again, on the same port) and wait until it answers."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
                client.ping()
                client.close()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop it: every connection to it drops."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis (never the shared one: the test stops it)."""
    server = RedisServer(tmp_path)
    yield server
    server.stop()
