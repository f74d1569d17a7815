"""The idle-connection probe: thousands of connections that never finish, and the service still answers.

:class:`IdleConnections` opens, at once and on the loopback, ``http`` connections that send half
an HTTP request (the request line and some headers, never the blank line that ends them) and
``ws`` connections that send a complete WebSocket upgrade for Socket.IO
(``GET /socket.io/?EIO=4&transport=websocket``) and then never open a namespace or authenticate.
Opening 2,000 connections at once is a burst the server takes some time to absorb (accept, and
answer every upgrade); :func:`wait_accepted` waits until its listen queue is empty. While they are
all held open, the caller measures ``GET /healthz`` and an SOS; :meth:`state`
tells how many were still open (and how many upgrades the server accepted with ``101``).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import resource
import selectors
import socket
import subprocess
import time

HALF_REQUEST = (b"POST /api/v1/mobile/pings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer ")  # ... and never the rest


def raise_nofile() -> int:
    """Raise this process's open-file limit to its hard limit; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def ws_upgrade(port: int) -> bytes:
    """A WebSocket upgrade request for Engine.IO 4 (no sid, no auth ever follows)."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n\r\n").encode()


class IdleConnections:
    """Hold ``http`` half-sent requests and ``ws`` unauthenticated upgrades open against one server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.http: list[socket.socket] = []
        self.ws: list[socket.socket] = []
        self.ws_data: dict[int, bytes] = {}
        self.open_errors: list[str] = []
        self.open_s = 0.0

    def _connect(self, payload: bytes) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=10)
            sock.sendall(payload)
            sock.setblocking(False)
            return sock
        except OSError as exc:
            if len(self.open_errors) < 5:
                self.open_errors.append(f"{type(exc).__name__}: {exc}")
            return None

    def open(self, http: int, ws: int, deadline_s: float = 90) -> None:
        """Open them (alternating kinds), giving up at ``deadline_s``."""
        start = time.perf_counter()
        deadline = start + deadline_s
        for i in range(max(http, ws)):
            if time.perf_counter() > deadline:
                self.open_errors.append(f"gave up opening after {deadline_s:.0f} s")
                break
            if i < http and (sock := self._connect(HALF_REQUEST)) is not None:
                self.http.append(sock)
            if i < ws and (sock := self._connect(ws_upgrade(self.port))) is not None:
                self.ws.append(sock)
        self.open_s = time.perf_counter() - start

    def read_upgrades(self, wait_s: float = 10) -> None:
        """Collect what the server sent on the WebSocket connections (its ``101`` and the Engine.IO open)."""
        selector = selectors.DefaultSelector()  # epoll: more than FD_SETSIZE sockets
        try:
            for sock in self.ws:
                if b"\r\n\r\n" not in self.ws_data.get(sock.fileno(), b""):
                    selector.register(sock, selectors.EVENT_READ)
            deadline = time.perf_counter() + wait_s
            while selector.get_map() and time.perf_counter() < deadline:
                for key, _ in selector.select(timeout=0.5):
                    sock = key.fileobj
                    try:
                        chunk = sock.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        chunk = b""
                    data = self.ws_data.get(sock.fileno(), b"") + chunk
                    self.ws_data[sock.fileno()] = data
                    if not chunk or b"\r\n\r\n" in data:
                        selector.unregister(sock)
        finally:
            selector.close()

    @staticmethod
    def _alive(sock: socket.socket) -> bool:
        try:
            while sock.recv(65536, socket.MSG_DONTWAIT):
                pass  # whatever the server sent (Engine.IO pings on a WebSocket)
            return False  # b"": the server closed it
        except BlockingIOError:
            return True
        except OSError:
            return False

    def state(self) -> dict:
        """How many of each are open now, and how many upgrades were accepted (``101``)."""
        upgraded = sum(1 for s in self.ws if self.ws_data.get(s.fileno(), b"").startswith(b"HTTP/1.1 101"))
        answered_http = 0
        for sock in self.http:
            try:
                if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    answered_http += 1
            except OSError:
                pass
        return {"http_open": sum(1 for s in self.http if self._alive(s)), "http_answered": answered_http,
                "ws_open": sum(1 for s in self.ws if self._alive(s)), "ws_upgraded_101": upgraded}

    def close(self) -> None:
        """Close every connection."""
        for sock in self.http + self.ws:
            with contextlib.suppress(OSError):
                sock.close()
        self.http.clear()
        self.ws.clear()


def accept_queue(port: int) -> int | None:
    """Connections waiting in the listen queue of 127.0.0.1:``port`` (not accepted yet), from ``ss``."""
    try:
        out = subprocess.run(["ss", "-Hlnt", f"sport = :{port}"], capture_output=True, text=True, timeout=5,
                             check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = out.split()
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None


def wait_accepted(port: int, timeout_s: float = 30) -> float | None:
    """Wait until the server has accepted every connection (listen queue empty); seconds waited, None if not."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        waiting = accept_queue(port)
        if waiting is None:
            return None
        if waiting == 0:
            return time.perf_counter() - start
        time.sleep(0.1)
    return None


def timed_get(host: str, port: int, path: str, timeout_s: float = 10) -> tuple[int | None, float]:
    """``GET path`` on a new connection: (status or None, seconds)."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    start = time.perf_counter()
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - start
    except OSError:
        return None, time.perf_counter() - start
    finally:
        connection.close()
