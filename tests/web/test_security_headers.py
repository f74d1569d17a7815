"""One place sets the Content-Security-Policy and the usual security headers, for every page."""

from __future__ import annotations

import pytest

from backend.web.security import content_security_policy, tile_source

PAGES = ["/console", "/hotel", "/checkpoint", "/cards/TEST0001/print", "/app", "/app/sw.js"]


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_policy_and_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no eval: data never runs
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["connect-src"] == ["'self'", "ws://localhost", "wss://localhost"]  # Socket.IO
    assert "https://tile.openstreetmap.org" in policy["img-src"]  # TILE_URL's origin, images only
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(("path", "allowed"), [
    ("/app", True), ("/app/sw.js", True), ("/hotel", True), ("/checkpoint", True),
    ("/console", False), ("/cards/TEST0001/print", False), ("/api/v1/zones", False),
])
def test_camera_and_position_only_for_the_pages_that_use_them(client, path, allowed):
    policy = client.get(path).headers["Permissions-Policy"]
    own = "(self)" if allowed else "()"
    assert f"camera={own}" in policy and f"geolocation={own}" in policy
    assert "microphone=()" in policy


def test_api_answers_and_errors_carry_the_headers_too(client):
    for response in (client.get("/api/v1/zones"), client.get("/api/v1/nothing-here"),
                     client.post("/api/v1/auth/login", json={})):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_tile_server_of_tile_url_is_allowed_as_images():
    assert tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://tile.openstreetmap.org"
    assert tile_source("https://{s}.tile.example.org:8443/{z}/{x}/{y}.png") == "https://*.tile.example.org:8443"
    assert tile_source("/tiles/{z}/{x}/{y}.png") == ""  # this origin
    assert tile_source(None) == ""
    policy = _directives(content_security_policy(tile_url="http://127.0.0.1:9000/{z}/{x}/{y}.png", host="a.b:5000"))
    assert policy["img-src"] == ["'self'", "data:", "blob:", "http://127.0.0.1:9000"]
    assert "http://127.0.0.1:9000" not in policy["script-src"] + policy["connect-src"]


def test_a_strange_host_header_never_reaches_the_policy():
    policy = content_security_policy(tile_url=None, host="evil; script-src *")
    assert _directives(policy)["connect-src"] == ["'self'"]
    assert "evil" not in policy
