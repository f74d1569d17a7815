"""One-tap set-up of Traccar Client and OwnTracks: the links decode to working configurations.

Formats, from the apps themselves:
- Traccar Client reads ``org.traccar.client://<any host but "action">?url=…&id=…&interval=…``
  (its ConfigurationService: ``url`` the server, ``id`` the device identifier, ``interval`` and
  ``heartbeat`` seconds, ``accuracy`` one of highest/high/medium/low, booleans "true"/"false").
- OwnTracks reads ``owntracks:///config?inline=<base64 of a _type: configuration message>``
  (booklet: remote configuration / JSON); ``mode`` 3 is private HTTP, ``url`` the endpoint,
  ``auth`` with ``username`` and ``password``.
Each decoded configuration is then used exactly as the app would use it, against the server.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from tests.qr import read_one_qr_code

TRACCAR_ACCURACIES = {"highest", "high", "medium", "low"}


def _links(phone, client) -> dict:
    response = client.get("/api/v1/mobile/setup-links", headers=phone.headers)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def _qr_text(data_uri: str) -> str:
    assert data_uri.startswith("data:image/png;base64,")
    return read_one_qr_code(base64.b64decode(data_uri.split(",", 1)[1]))


def _owntracks_configuration(link: str) -> dict:
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("owntracks", "", "/config")
    inline = parse_qs(parts.query, strict_parsing=True)["inline"]
    assert len(inline) == 1
    return json.loads(base64.b64decode(inline[0], validate=True))


def _traccar_configuration(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    assert parts.scheme == "org.traccar.client"
    assert parts.netloc and parts.netloc != "action"  # "action" is reserved for start/stop
    query = parse_qs(parts.query, strict_parsing=True)
    assert all(len(values) == 1 for values in query.values())
    return {key: values[0] for key, values in query.items()}


def test_owntracks_link_configures_http_mode_with_this_cards_credentials(enroll, client):
    phone = enroll(full_name="Anna Schmidt")
    links = _links(phone, client)
    assert links["card_id"] == phone.card["card_id"]
    config = _owntracks_configuration(links["owntracks"]["link"])
    assert config["_type"] == "configuration"
    assert config["mode"] == 3  # private HTTP
    assert config["url"] == "http://localhost/api/v1/mobile/owntracks"
    assert config["auth"] is True
    assert config["username"] == phone.enrollment["device_id"]
    assert config["password"] == phone.enrollment["device_token"]
    assert config["tid"] == "AS" and len(config["tid"]) == 2
    assert isinstance(config["locatorInterval"], int) and config["locatorInterval"] > 0
    assert config == links["owntracks"]["configuration"]
    assert _qr_text(links["owntracks"]["qr_png"]) == links["owntracks"]["link"]

    # OwnTracks now posts a location exactly like this, with HTTP Basic username:password
    basic = base64.b64encode(f"{config['username']}:{config['password']}".encode()).decode()
    now = int(datetime.now(UTC).timestamp())
    response = client.post(urlsplit(config["url"]).path, headers={"Authorization": f"Basic {basic}"}, json={
        "_type": "location", "lat": 7.8961, "lon": 98.2969, "tst": now, "acc": 12, "batt": 80,
        "tid": config["tid"]})
    assert response.status_code == 200 and response.get_json() == []
    me = client.get("/api/v1/mobile/me", headers=phone.headers).get_json()
    assert (me["last_position"]["lat"], me["last_position"]["lon"]) == (7.8961, 98.2969)


def test_traccar_client_link_points_at_the_osmand_endpoint_with_the_osmand_id(enroll, client, app):
    phone = enroll()
    links = _links(phone, client)
    config = _traccar_configuration(links["traccar_client"]["link"])
    assert config["url"] == "http://localhost/api/v1/mobile/osmand"
    assert config["id"] == phone.enrollment["osmand_id"]
    assert int(config["interval"]) == app.config["PING_INTERVAL_S"]
    assert int(config["heartbeat"]) >= 60  # the app's minimum; a still tourist keeps reporting
    assert config["accuracy"] in TRACCAR_ACCURACIES
    assert config["buffer"] == "true" and config["service"] in ("true", "false")
    assert links["traccar_client"]["device_identifier"] == phone.enrollment["osmand_id"]
    assert links["traccar_client"]["server_url"] == config["url"]
    assert _qr_text(links["traccar_client"]["qr_png"]) == links["traccar_client"]["link"]

    # Traccar Client (OsmAnd protocol) reports to that URL with that id
    now = int(datetime.now(UTC).timestamp())
    response = client.get(urlsplit(config["url"]).path, query_string={
        "id": config["id"], "lat": "7.8200", "lon": "98.3600", "timestamp": str(now), "accuracy": "9"})
    assert response.status_code == 200, response.get_json()
    me = client.get("/api/v1/mobile/me", headers=phone.headers).get_json()
    assert (me["last_position"]["lat"], me["last_position"]["lon"]) == (7.82, 98.36)


def test_links_use_the_public_base_url_when_configured(enroll, client, app):
    app.config["PUBLIC_BASE_URL"] = "https://safety.phuket.example/"
    phone = enroll()
    links = _links(phone, client)
    assert _owntracks_configuration(links["owntracks"]["link"])["url"] == \
        "https://safety.phuket.example/api/v1/mobile/owntracks"
    assert _traccar_configuration(links["traccar_client"]["link"])["url"] == \
        "https://safety.phuket.example/api/v1/mobile/osmand"
    assert links["server_url"] == "https://safety.phuket.example"


def test_each_phone_gets_its_own_credentials(enroll, client):
    first, second = enroll(), enroll()
    one, two = _links(first, client), _links(second, client)
    assert _owntracks_configuration(one["owntracks"]["link"])["password"] != \
        _owntracks_configuration(two["owntracks"]["link"])["password"]
    assert one["traccar_client"]["device_identifier"] != two["traccar_client"]["device_identifier"]


def test_setup_links_need_a_valid_device_token(enroll, client, auth):
    phone = enroll()
    assert client.get("/api/v1/mobile/setup-links").status_code == 401
    assert client.get("/api/v1/mobile/setup-links", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    # a staff token is never a device token
    staff = client.get("/api/v1/mobile/setup-links", headers=auth.headers("admin"))
    assert staff.status_code == 401 and staff.get_json()["code"] == 401
    assert client.get("/api/v1/mobile/setup-links", headers=phone.headers).status_code == 200


def test_no_setup_links_for_a_revoked_card(enroll, client, app):
    from backend.cards.models import Card
    from backend.cards.service import revoke_card
    from backend.extensions import db

    phone = enroll()
    with app.app_context():
        revoke_card(card=db.session.get(Card, phone.card["card_id"]), reason="lost card")
        db.session.commit()
    response = client.get("/api/v1/mobile/setup-links", headers=phone.headers)
    assert response.status_code == 403
    assert response.get_json()["code"] == 403 and response.get_json()["message"]


def test_app_config_gives_the_cards_language(enroll, client):
    phone = enroll(language="th")
    response = client.get("/api/v1/mobile/app-config", headers=phone.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"card_id": phone.card["card_id"], "language": "th",
                    "ping_interval_s": body["ping_interval_s"], "server_url": "http://localhost"}
    assert body["ping_interval_s"] > 0
    assert client.get("/api/v1/mobile/app-config").status_code == 401


def test_openapi_documents_the_companion_endpoints(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert paths["/api/v1/mobile/setup-links"]["get"]["security"] == [{"deviceToken": []}]
    assert "/api/v1/mobile/app-config" in paths
