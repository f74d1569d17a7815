"""What gunicorn refuses before the application sees it is answered with the contract's JSON error."""

from __future__ import annotations

import json
import socket

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["spatialite"], indirect=True)]


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as is; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),  # URL longer than gunicorn's 4094
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),  # header over 8190
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(120)) + b"\r\n", 431),
    (b"\x16\x03\x01 nonsense\r\n\r\n", 400),  # not HTTP at all (e.g. TLS to a plain port)
], ids=["long-url", "long-header", "too-many-headers", "not-http"])
def test_the_servers_own_refusals_are_json(start_server, request_bytes, status):
    server = start_server()
    code, headers, body = _raw(server.port, request_bytes)
    assert code == status
    assert headers["content-type"] == "application/json"
    error = json.loads(body)
    assert error["code"] == status and error["message"]
