"""Real server processes (``python wsgi.py``) and real Socket.IO clients for the 191 center's tests."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "/dispatch"


def free_port() -> int:
    """A TCP port nobody listens on (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``python wsgi.py`` in a subprocess, bound to 127.0.0.1 on a free port."""

    def __init__(self, *, database_url: str, secret_key: str, workdir: Path, extra_env: dict[str, str] | None = None,
                 name: str = "server") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if k not in ("SOCKETIO_MESSAGE_QUEUE", "SOCKETIO_CHANNEL")}
        env.update({
            "DATABASE_URL": database_url, "SECRET_KEY": secret_key, "HOST": "127.0.0.1", "PORT": str(self.port),
            "RUN_PERIODIC_JOBS": "0", "INSTANCE_PATH": str(workdir / f"instance-{name}"),
            "CARD_KEYS_DIR": str(workdir / "keys"), "THREADS": "16", "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        })
        self._log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not become ready:\n{self.log()}")

    def log(self) -> str:
        """What the server printed."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the process and close its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def start_server(app, tmp_path: Path) -> Iterator:
    """Start ``python wsgi.py`` processes on the test's database; all are stopped after the test."""
    servers: list[LiveServer] = []

    def start(name: str = "server", **extra_env: str) -> LiveServer:
        server = LiveServer(database_url=app.config["SQLALCHEMY_DATABASE_URI"], secret_key=app.config["SECRET_KEY"],
                            workdir=tmp_path, extra_env=extra_env, name=name)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


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
