"""Safety broadcasts: who is reached, what they read, the CAP 1.2 document, and bad input."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from tests.notifications.conftest import DATA, outbox_rows

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
CAP_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")

# Patong Bay and beach: lon 98.270–98.310, lat 7.880–7.910 ([lon, lat], closed)
PATONG = [[98.270, 7.880], [98.310, 7.880], [98.310, 7.910], [98.270, 7.910], [98.270, 7.880]]
ON_THE_BEACH = (7.8961, 98.2966)
ON_A_BOAT_IN_THE_BAY = (7.8930, 98.2790)
IN_PHUKET_TOWN = (7.8804, 98.3923)
ON_THE_EDGE = (7.8950, 98.310)  # exactly on the polygon's eastern edge


@pytest.fixture(scope="module")
def cap_schema() -> xmlschema.XMLSchema:
    """The official OASIS CAP 1.2 schema (see data/README.md for its source)."""
    return xmlschema.XMLSchema(DATA / "CAP-v1.2.xsd")


def rip_current(**overrides):
    """A typical broadcast body."""
    return {
        "headline": "Rip currents at Patong: stay out of the water",
        "message": "Strong rip currents off Patong Beach this afternoon. Red flags are up.",
        "instruction": "Do not swim. If caught, swim parallel to the shore and wave for help.",
        "severity": "Severe",
        "urgency": "Immediate",
        "event": "Rip current",
        "area": {"type": "Polygon", "coordinates": [PATONG]},
        "area_desc": "Patong Beach and Patong Bay",
        "translations": {
            "th": {"headline": "กระแสน้ำย้อนกลับที่ป่าตอง ห้ามลงเล่นน้ำ",
                   "message": "มีกระแสน้ำย้อนกลับรุนแรงที่หาดป่าตองบ่ายนี้ ชักธงแดงแล้ว"},
            "ru": {"headline": "Отбойные течения на Патонге: не заходите в воду",
                   "message": "Сегодня днём у пляжа Патонг сильные отбойные течения. Подняты красные флаги."},
            "zh": {"headline": "芭东海滩有离岸流：请勿下水",
                   "message": "今天下午芭东海滩有强烈离岸流，已挂红旗。"},
        },
        **overrides,
    }


def test_a_polygon_broadcast_reaches_exactly_the_tracked_tourists_inside(app, client, auth, tourists):
    beach = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="en")
    boat = tourists.add(lat=ON_A_BOAT_IN_THE_BAY[0], lon=ON_A_BOAT_IN_THE_BAY[1], language="th", at_sea=True)
    edge = tourists.add(lat=ON_THE_EDGE[0], lon=ON_THE_EDGE[1], language="de", device_language="ru")
    town = tourists.add(lat=IN_PHUKET_TOWN[0], lon=IN_PHUKET_TOWN[1], language="en")
    closed = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], status="closed")
    revoked = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], status="revoked")
    expired = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], days=-1)
    no_position = tourists.add()

    response = client.post("/api/v1/broadcasts", json=rip_current(), headers=auth.headers("dispatcher"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["recipients"] == 3
    assert body["cap_url"] == f"http://localhost/api/v1/broadcasts/{body['id']}/cap.xml"

    reached = {row.card_id: row for row in outbox_rows(app, broadcast_id=body["id"])}
    assert set(reached) == {beach["card_id"], boat["card_id"], edge["card_id"]}
    for other in (town, closed, revoked, expired, no_position):
        assert other["card_id"] not in reached
    assert reached[beach["card_id"]].title == "Rip currents at Patong: stay out of the water"
    assert "swim parallel to the shore" in reached[beach["card_id"]].body
    assert reached[boat["card_id"]].title == "กระแสน้ำย้อนกลับที่ป่าตอง ห้ามลงเล่นน้ำ"
    assert reached[edge["card_id"]].language == "ru"  # the device's language wins over the card's "de"
    assert all(row.status == "pending" and row.topic == "broadcast" for row in reached.values())


def test_a_broadcast_is_pushed_to_the_phones_inside(app, client, auth, runner, tourists, fcm, fcm_config):
    app.config.update(fcm_config)
    inside = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="zh")
    tourists.add(lat=IN_PHUKET_TOWN[0], lon=IN_PHUKET_TOWN[1])
    body = client.post("/api/v1/broadcasts", json=rip_current(severity="Extreme"),
                       headers=auth.headers("admin")).get_json()
    with app.app_context():
        assert runner.invoke(args=["sweep"]).exit_code == 0
    [message] = fcm.sends()
    assert message["token"] == inside["tokens"][0]
    assert message["notification"]["title"] == "芭东海滩有离岸流：请勿下水"
    assert message["data"]["broadcast_id"] == str(body["id"])
    assert message["data"]["severity"] == "Extreme"
    assert message["android"]["priority"] == "high"


def test_a_zone_broadcast_reaches_the_tourists_in_the_zone(app, client, auth, tourists):
    from shapely.geometry import MultiPolygon, Polygon

    from backend.extensions import db
    from backend.geometry import to_element
    from geo.models import Zone

    with app.app_context():
        zone = Zone(name="Patong Beach rip currents", kind="danger", severity="high",
                    geom=to_element(MultiPolygon([Polygon(PATONG)])))
        db.session.add(zone)
        db.session.commit()
        zone_id = zone.id
    inside = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1])
    tourists.add(lat=IN_PHUKET_TOWN[0], lon=IN_PHUKET_TOWN[1])
    body = rip_current(area={"zone_id": zone_id})
    del body["area_desc"]
    response = client.post("/api/v1/broadcasts", json=body, headers=auth.headers("dispatcher"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["recipients"] == 1
    assert [r.card_id for r in outbox_rows(app, broadcast_id=response.get_json()["id"])] == [inside["card_id"]]
    xml = client.get(f"/api/v1/broadcasts/{response.get_json()['id']}/cap.xml").data
    assert ET.fromstring(xml).find(f"{CAP}info/{CAP}area/{CAP}areaDesc").text == "Patong Beach rip currents"


def test_the_cap_document_validates_against_the_oasis_schema(app, client, auth, cap_schema, tourists):
    tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1])
    from backend.models_base import utcnow

    expires = (utcnow() + timedelta(hours=6)).replace(microsecond=0)
    created = client.post("/api/v1/broadcasts", json=rip_current(expires_at=expires.isoformat()),
                          headers=auth.headers("dispatcher")).get_json()

    response = client.get(f"/api/v1/broadcasts/{created['id']}/cap.xml")  # public: no token
    assert response.status_code == 200
    assert response.mimetype == "application/cap+xml"
    cap_schema.validate(response.data)  # raises with the reason when invalid

    alert = ET.fromstring(response.data)
    assert alert.tag == f"{CAP}alert"
    assert alert.find(f"{CAP}sender").text == "safety.phuket.go.th"
    assert alert.find(f"{CAP}status").text == "Actual"
    assert alert.find(f"{CAP}msgType").text == "Alert"
    assert alert.find(f"{CAP}scope").text == "Public"
    sent = alert.find(f"{CAP}sent").text
    assert CAP_DATETIME.match(sent) and sent.endswith("+07:00")
    infos = alert.findall(f"{CAP}info")
    languages = [i.find(f"{CAP}language").text for i in infos]
    assert languages[0] == "en" and sorted(languages) == ["en", "ru", "th", "zh"]
    english, thai = infos[0], infos[languages.index("th")]
    assert english.find(f"{CAP}headline").text == "Rip currents at Patong: stay out of the water"
    assert english.find(f"{CAP}description").text.startswith("Strong rip currents")
    assert english.find(f"{CAP}instruction").text.startswith("Do not swim")
    assert english.find(f"{CAP}severity").text == "Severe"
    assert english.find(f"{CAP}urgency").text == "Immediate"
    assert english.find(f"{CAP}category").text == "Safety"
    assert english.find(f"{CAP}event").text == "Rip current"
    expires_text = english.find(f"{CAP}expires").text
    assert CAP_DATETIME.match(expires_text)
    from datetime import datetime

    assert datetime.fromisoformat(expires_text) == expires
    assert thai.find(f"{CAP}headline").text == "กระแสน้ำย้อนกลับที่ป่าตอง ห้ามลงเล่นน้ำ"
    assert thai.find(f"{CAP}severity").text == "Severe"
    area = english.find(f"{CAP}area")
    assert area.find(f"{CAP}areaDesc").text == "Patong Beach and Patong Bay"
    pairs = area.find(f"{CAP}polygon").text.split(" ")
    assert pairs[0] == pairs[-1] and len(pairs) == 5
    lat, lon = (float(v) for v in pairs[0].split(","))
    assert (lat, lon) == (7.88, 98.27)  # CAP order is "lat,lon", the reverse of GeoJSON


def test_unknown_broadcast_is_404(client, auth):
    assert client.get("/api/v1/broadcasts/999/cap.xml").status_code == 404
    response = client.get("/api/v1/broadcasts/999", headers=auth.headers("dispatcher"))
    assert response.status_code == 404 and response.get_json()["code"] == 404


def test_list_detail_active_feed_and_cancel(app, client, auth, tourists):
    headers = auth.headers("dispatcher")
    tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1])
    first = client.post("/api/v1/broadcasts", json=rip_current(), headers=headers).get_json()
    second = client.post("/api/v1/broadcasts", json=rip_current(headline="Storm warning", severity="Moderate",
                                                                category="Met", event="Storm"),
                         headers=headers).get_json()

    listed = client.get("/api/v1/broadcasts", headers=headers).get_json()["items"]
    assert [b["id"] for b in listed] == [second["id"], first["id"]]
    detail = client.get(f"/api/v1/broadcasts/{first['id']}", headers=headers).get_json()
    assert detail["recipients"] == 1 and detail["active"] is True
    assert detail["area"]["type"] == "MultiPolygon"
    assert detail["area"]["coordinates"][0][0][0] == [98.27, 7.88]

    cancelled = client.post(f"/api/v1/broadcasts/{first['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["active"] is False
    assert [r.status for r in outbox_rows(app, broadcast_id=first["id"])] == ["failed"]  # never pushed

    active = client.get("/api/v1/broadcasts/active")  # public feed
    assert active.status_code == 200
    items = active.get_json()["items"]
    assert [b["id"] for b in items] == [second["id"]]
    assert "created_by" not in items[0]


def test_only_dispatchers_and_admins_send_or_list(client, auth):
    assert client.post("/api/v1/broadcasts", json=rip_current()).status_code == 401
    assert client.get("/api/v1/broadcasts").status_code == 401
    headers = auth.headers("immigration")
    assert client.post("/api/v1/broadcasts", json=rip_current(), headers=headers).status_code == 403
    assert client.get("/api/v1/broadcasts", headers=headers).status_code == 403
    assert client.get("/api/v1/broadcasts/1", headers=headers).status_code == 403
    assert client.post("/api/v1/broadcasts", json=rip_current(), headers=auth.headers("admin")).status_code == 201


def test_hotel_managers_may_not_broadcast(app, client, auth, factories):
    headers = auth.headers("hotel_manager", hotel_id=factories.hotel())
    assert client.post("/api/v1/broadcasts", json=rip_current(), headers=headers).status_code == 403
    assert outbox_rows(app) == []


BOWTIE = [[98.27, 7.88], [98.31, 7.91], [98.31, 7.88], [98.27, 7.91], [98.27, 7.88]]
HOLE = [[98.28, 7.89], [98.29, 7.89], [98.29, 7.90], [98.28, 7.89]]


@pytest.mark.parametrize(("change", "field"), [
    ({"headline": None}, "headline"),
    ({"headline": ""}, "headline"),
    ({"headline": 42}, "headline"),
    ({"message": "x" * 4001}, "message"),
    ({"severity": "Catastrophic"}, "severity"),
    ({"severity": "severe"}, "severity"),
    ({"urgency": "Now"}, "urgency"),
    ({"category": "Beach"}, "category"),
    ({"area": None}, "area"),
    ({"area": {}}, "area"),
    ({"area": {"type": "Point", "coordinates": [98.3, 7.9]}}, "area"),
    ({"area": {"type": "Polygon", "coordinates": [PATONG[:-1]]}}, "area"),  # not closed
    ({"area": {"type": "Polygon", "coordinates": [BOWTIE]}}, "area"),  # self-intersecting
    ({"area": {"type": "Polygon", "coordinates": [[[lat, lon] for lon, lat in PATONG]]}}, "area"),  # swapped
    ({"area": {"type": "Polygon", "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]]}},
     "area"),  # Paris
    ({"area": {"type": "Polygon", "coordinates": [[[98.3, 95.0], [98.4, 7.9], [98.3, 7.8], [98.3, 95.0]]]}},
     "area"),  # off the Earth
    ({"area": {"type": "Polygon", "coordinates": [PATONG, HOLE]}}, "area"),  # a hole: CAP has none
    ({"area": {"type": "Polygon", "coordinates": [[["98.27", "7.88"]] * 4]}}, "area"),
    ({"area": {"type": "Polygon", "coordinates": [PATONG], "zone_id": 1}}, "area"),  # both
    ({"area": {"zone_id": "abc"}}, "area"),
    ({"expires_at": "2020-01-01T00:00:00+00:00"}, "expires_at"),
    ({"expires_at": "2099-01-01T00:00:00+00:00"}, "expires_at"),
    ({"expires_at": "tomorrow"}, "expires_at"),
    ({"translations": {"th": {"headline": "x"}}}, "translations"),
    ({"translations": {"not a tag!": {"headline": "x", "message": "y"}}}, "translations"),
])
def test_bad_broadcasts_are_422_and_change_nothing(app, client, auth, tourists, change, field):
    tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1])
    body = {**rip_current(), **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post("/api/v1/broadcasts", json=body, headers=auth.headers("dispatcher"))
    assert response.status_code == 422, response.get_json()
    payload = response.get_json()
    assert payload["code"] == 422 and payload["message"]
    assert field in payload["errors"]["json"]
    assert outbox_rows(app) == []
    assert client.get("/api/v1/broadcasts", headers=auth.headers("dispatcher")).get_json()["items"] == []


def test_an_unknown_zone_is_422(app, client, auth):
    response = client.post("/api/v1/broadcasts", json=rip_current(area={"zone_id": 999999}),
                           headers=auth.headers("dispatcher"))
    assert response.status_code == 422
    assert "zone" in response.get_json()["errors"]["json"]["area"][0]


def test_nan_and_oversize_bodies_are_refused(app, client, auth):
    headers = {**auth.headers("dispatcher"), "Content-Type": "application/json"}
    nan = '{"headline": "h", "message": "m", "severity": "Minor", "area": {"type": "Polygon", ' \
          '"coordinates": [[[NaN, 7.88], [98.31, 7.88], [98.31, 7.91], [NaN, 7.88]]]}}'
    assert client.post("/api/v1/broadcasts", data=nan, headers=headers).status_code == 422
    huge = rip_current(message="x" * (app.config["MAX_CONTENT_LENGTH"] + 10))
    assert client.post("/api/v1/broadcasts", json=huge, headers=headers).status_code == 413
    assert client.post("/api/v1/broadcasts", data="not json", headers=headers).status_code in (400, 422)
    assert outbox_rows(app) == []
