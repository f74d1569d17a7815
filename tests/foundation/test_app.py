"""Health, OpenAPI, JSON errors and the audit log."""

from __future__ import annotations

import json
import re
import threading

from openapi_spec_validator import validate


def test_healthz(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_healthz_503_when_database_is_down(tmp_path):
    from backend import create_app

    # a database file in a folder that does not exist cannot be opened
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] != "ok"


def test_openapi_document_is_valid(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/login" in spec["paths"]
    assert "staffToken" in spec["components"]["securitySchemes"]


def test_the_document_written_on_first_read_has_every_api_route_and_scheme(app, client, runner):
    """The document is written when first read: still every /api/ route of every domain, once."""

    spec = client.get("/openapi.json").get_json()
    documented = {(path, method.upper()) for path, operations in spec["paths"].items()
                  for method in operations if method != "parameters"}
    routes = {(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes <= documented, sorted(routes - documented)
    assert {"staffToken", "deviceToken", "ownTracksBasic"} <= set(spec["components"]["securitySchemes"])
    tags = [tag["name"] for tag in spec["tags"]]
    assert len(tags) == len(set(tags)), tags  # each blueprint documented once
    # read again (and by the CLI): the same document, not documented twice
    assert client.get("/openapi.json").get_json() == spec
    result = runner.invoke(args=["openapi", "print"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == spec


def test_first_reads_at_the_same_time_all_get_the_whole_document(app):
    """Eight requests for a document nobody has read yet: each gets all of it, written once."""
    barrier = threading.Barrier(8)
    answers: list = []

    def read() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(client.get("/openapi.json").get_json())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    expected_paths = set(app.test_client().get("/openapi.json").get_json()["paths"])
    assert len(answers) == 8
    assert all(set(answer["paths"]) == expected_paths for answer in answers), \
        [len(answer["paths"]) for answer in answers]
    assert all(len(answer["tags"]) == len({t["name"] for t in answer["tags"]}) for answer in answers)


def test_unknown_route_and_method_are_json(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.get_json()["code"] == 404 and response.get_json()["message"]
    response = client.delete("/api/v1/auth/login")
    assert response.status_code == 405
    assert response.get_json()["code"] == 405


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == 400 and response.get_json()["message"]


def test_array_instead_of_object_is_422(client):
    response = client.post("/api/v1/auth/login", json=[{"username": "a", "password": "b"}])
    assert response.status_code == 422
    assert response.get_json()["code"] == 422


def test_oversize_body_is_413(client, app):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/api/v1/auth/login", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


def test_audit_service_records_actor(app, auth, client):
    from backend.audit import service
    from backend.extensions import db

    with app.test_request_context("/x", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        service.record("card.read", subject_type="card", subject_id="ABC", card_id="ABC")
        db.session.commit()
    items = client.get("/api/v1/audit", headers=auth.headers("admin"), query_string={"card_id": "ABC"}).get_json()["items"]
    assert len(items) == 1
    assert items[0]["action"] == "card.read" and items[0]["client_addr"] == "10.1.2.3"
    assert items[0]["actor_type"] == "system"
