"""Capacity is not a thread count: ``python wsgi.py`` holds thousands of connections and waits.

Contract, "Running under load and faults": one process holds thousands of concurrent connections
(idle WebSockets, slow or half-sent requests, long polling) without any of them holding up another
client's request — an SOS is answered while 2,000 idle connections are open. These are capacity
properties with generous bounds (2 s for an answer that takes milliseconds), not timing races.
"""

from __future__ import annotations

import base64
import os
import resource
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import requests

from tests.mobile_api.conftest import now_iso

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["postgis"], indirect=True)]

SOS = "/api/v1/mobile/sos"
IDLE_HTTP = 1000
IDLE_WEBSOCKETS = 1000
ANSWER_WITHIN_S = 2.0


def sos_body() -> dict:
    """A valid SOS (Kata beach)."""
    return {"id": str(uuid.uuid4()), "lat": 7.8200, "lon": 98.2990, "recorded_at": now_iso(-5), "category": "medical"}


def timed(call) -> tuple[requests.Response, float]:  # noqa: ANN001
    """The response of ``call()`` and how long it took (s)."""
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    """Client sockets closed after the test (the process may need more descriptors than by default)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_HTTP + IDLE_WEBSOCKETS + 500
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(wanted, soft)), hard))
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _half_sent_request(port: int) -> socket.socket:
    """A request whose headers never end (a slow client, or a slowloris attacker)."""
    sock = _connect(port)
    sock.sendall(b"POST /api/v1/mobile/pings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 64\r\n")
    return sock


def _idle_websocket(port: int) -> tuple[socket.socket, bytes]:
    """A WebSocket upgraded without any credential that then never says a word; the server's answer."""
    sock = _connect(port)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 b"Sec-WebSocket-Key: " + key + b"\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return sock, answer


def _still_open(sock: socket.socket) -> bool:
    """True when the server has not closed the connection (nothing to read, no EOF)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def test_sos_and_healthz_are_answered_while_2000_idle_connections_are_open(start_server, mobile, sockets):
    server = start_server()
    phone = mobile.enroll()
    port = server.port
    for _ in range(IDLE_HTTP):
        sockets.append(_half_sent_request(port))
    upgraded = 0
    for _ in range(IDLE_WEBSOCKETS):
        sock, answer = _idle_websocket(port)
        sockets.append(sock)
        upgraded += answer.startswith(b"HTTP/1.1 101")
    assert upgraded == IDLE_WEBSOCKETS  # every upgrade was accepted and is held open, unauthenticated

    health, health_s = timed(lambda: requests.get(server.url + "/healthz", timeout=30))
    sos, sos_s = timed(lambda: requests.post(server.url + SOS, json=sos_body(), headers=phone.headers, timeout=30))

    assert health.status_code == 200 and health_s < ANSWER_WITHIN_S, (health.status_code, health_s)
    assert sos.status_code == 201 and sos_s < ANSWER_WITHIN_S, (sos.status_code, sos_s)
    # the 2,000 connections were really held all along, not dropped to make room
    assert sum(_still_open(sock) for sock in sockets) == IDLE_HTTP + IDLE_WEBSOCKETS


def _waiting_on_locks(database_url: str) -> int:
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock'").fetchone()[0]


def test_requests_waiting_on_the_database_hold_up_no_one_else(start_server, mobile, app):
    """20 SOS of one card wait on its row lock (more than the old server's 16 threads); others go on."""
    server = start_server(DB_STATEMENT_TIMEOUT_MS="60000")  # this test is about waiting, not about timeouts
    stuck, other = mobile.enroll(), mobile.enroll()
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    waiting = 20
    results: list[int] = []

    def press_sos() -> None:
        response = requests.post(server.url + SOS, json=sos_body(), headers=stuck.headers, timeout=60)
        results.append(response.status_code)

    with psycopg.connect(dsn) as holder:  # a long transaction holds the card's row lock, as a slow query would
        holder.execute("SELECT id FROM cards WHERE id = %s FOR UPDATE", (stuck.card_id,))
        threads = [threading.Thread(target=press_sos) for _ in range(waiting)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while _waiting_on_locks(database_url) < waiting and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _waiting_on_locks(database_url) >= waiting  # all 20 are inside the database, waiting

        health, health_s = timed(lambda: requests.get(server.url + "/healthz", timeout=30))
        sos, sos_s = timed(lambda: requests.post(server.url + SOS, json=sos_body(), headers=other.headers,
                                                 timeout=30))
        assert health.status_code == 200 and health_s < ANSWER_WITHIN_S, (health.status_code, health_s)
        assert sos.status_code == 201 and sos_s < ANSWER_WITHIN_S, (sos.status_code, sos_s)
        assert not results  # the stuck ones are still waiting
        holder.rollback()
    for thread in threads:
        thread.join(timeout=60)
    # once the lock is gone they all get their answer: one incident, the others joined it
    assert sorted(results) == [200] * (waiting - 1) + [201]
