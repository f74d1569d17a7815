"""Every refusal speaks JSON: a body nested too deeply is a 400 on every write endpoint, never a 500."""

from __future__ import annotations

import json
import re
import time

import pytest

from backend.web.bodies import nested_deeper_than

DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def _write_endpoints(app) -> list[tuple[str, str]]:  # noqa: ANN001
    """(method, path) of every POST/PUT/PATCH route of the API, its path parameters filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<int:[^>]+>", "1", rule.rule)
        path = re.sub(r"<[^>]+>", "TEST0001", path)
        found += [(method, path) for method in sorted(rule.methods & {"POST", "PUT", "PATCH"})]
    return found


def test_every_write_endpoint_is_checked(app):
    endpoints = _write_endpoints(app)
    assert len(endpoints) >= 15  # the fuzzing found 15 that answered 500
    assert ("POST", "/api/v1/auth/login") in endpoints and ("POST", "/api/v1/mobile/enroll") in endpoints


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_a_too_deeply_nested_body_is_a_json_400_everywhere(app, client, auth, body):
    headers = auth.headers("admin")
    answers = {}
    for method, path in _write_endpoints(app):
        for content_type in ("application/json", "text/plain"):  # OwnTracks and OsmAnd parse any type
            response = client.open(path, method=method, data=body, content_type=content_type, headers=headers)
            answers[(method, path, content_type)] = response.status_code
            assert response.status_code == 400, (method, path, content_type, response.status_code)
            payload = response.get_json()
            assert payload["code"] == 400 and "nested too deeply" in payload["message"]
    assert set(answers.values()) == {400}


def test_the_limit_is_64_levels_outside_strings():
    assert not nested_deeper_than(("[" * 64 + "]" * 64).encode(), 64)
    assert nested_deeper_than(("[" * 65 + "]" * 65).encode(), 64)
    assert nested_deeper_than(('{"a":' * 65 + "1" + "}" * 65).encode(), 64)
    # brackets inside strings are text, escaped quotes included
    text = json.dumps({"note": "[" * 500 + '"{' * 100, "list": [[1, 2], {"x": "]]]"}]}).encode()
    assert not nested_deeper_than(text, 64)
    # a wide body is not a deep one
    assert not nested_deeper_than(json.dumps([[i, {"v": [i]}] for i in range(20000)]).encode(), 64)
    # malformed (unbalanced) bodies are left to the parser's own 400
    assert not nested_deeper_than(b"[" * 1000, 64)


def test_the_check_is_cheap_even_for_hostile_bodies():
    """Linear in the body: a megabyte takes milliseconds (a quadratic scan would take hours).

    The bound is generous on purpose (a capacity property, not a timing race: the suite runs in
    parallel on a shared machine).
    """
    hostile = [b'"' + b'\\"' * 400_000, b'"\\' * 300_000 + b"\\", b"[]" * 500_000, b"[" * 500_000 + b"]" * 500_000]
    for body in hostile:
        started = time.perf_counter()
        nested_deeper_than(body, 64)
        assert time.perf_counter() - started < 5.0


def test_ordinary_bodies_are_untouched(client, auth):
    user = auth.user("dispatcher")
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": "correct horse battery"})
    assert response.status_code == 200
    nested_but_fine = {"username": [[[[["x"]]]]], "password": "y"}
    assert client.post("/api/v1/auth/login", json=nested_but_fine).status_code == 422
