"""Twelve languages for broadcasts: the languages list, the templates, the preview by language, and
each tourist reading a template broadcast (or a free text under its translated headline) in their
own language, through the real outbox and firebase-admin against the local FCM stand-in."""

from __future__ import annotations

import string
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from notifications import messages
from tests.notifications.conftest import DATA, outbox_rows

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
TWELVE = ["en", "th", "ru", "zh", "ko", "ja", "de", "fr", "hi", "ms", "ar", "he"]
TEMPLATE_IDS = ["rip_current_red_flag", "storm_small_boat", "tsunami_warning", "tsunami_all_clear", "heat",
                "jellyfish", "road_closure", "pier_closure"]
PATONG = [[98.270, 7.880], [98.310, 7.880], [98.310, 7.910], [98.270, 7.910], [98.270, 7.880]]
ON_THE_BEACH = (7.8961, 98.2966)
IN_PHUKET_TOWN = (7.8804, 98.3923)
AREA = {"type": "Polygon", "coordinates": [PATONG]}


def _placeholders(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)


# --- GET /api/v1/languages ------------------------------------------------------------------

def test_the_languages_are_public_each_named_in_itself(client):
    response = client.get("/api/v1/languages")
    assert response.status_code == 200
    body = response.get_json()
    assert body["default"] == "en"
    assert [lang["tag"] for lang in body["supported"]] == TWELVE
    names = {lang["tag"]: lang["name"] for lang in body["supported"]}
    assert names["en"] == "English" and names["th"] == "ไทย" and names["ru"] == "Русский"
    assert names["ar"] == "العربية" and names["he"] == "עברית" and names["ja"] == "日本語"
    assert len(set(names.values())) == 12
    spec = client.get("/openapi.json").get_json()
    paths = spec["paths"]
    assert "get" in paths["/api/v1/languages"] and "get" in paths["/api/v1/broadcasts/templates"]
    assert "requestBody" in paths["/api/v1/broadcasts/preview"]["post"]
    assert "template" in spec["components"]["schemas"]["BroadcastCreate"]["properties"]


# --- GET /api/v1/broadcasts/templates ---------------------------------------------------------

def test_the_eight_templates_are_written_in_all_twelve_languages(client, auth):
    response = client.get("/api/v1/broadcasts/templates", headers=auth.headers("dispatcher"))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [t["id"] for t in items] == TEMPLATE_IDS
    for template in items:
        assert template["severity"] in ("Extreme", "Severe", "Moderate", "Minor")
        assert template["urgency"] in ("Immediate", "Expected", "Future", "Past", "Unknown")
        for field in ("headline", "message"):
            texts = template[field]
            assert sorted(texts) == sorted(TWELVE), (template["id"], field)
            for lang in TWELVE:
                assert texts[lang].strip(), (template["id"], field, lang)
                if lang != "en":  # a real translation, not the English copied
                    assert texts[lang] != texts["en"], (template["id"], field, lang)
            assert len(set(texts.values())) == 12, (template["id"], field)
    tsunami = next(t for t in items if t["id"] == "tsunami_warning")
    assert tsunami["severity"] == "Extreme" and tsunami["urgency"] == "Immediate"
    assert tsunami["headline"]["th"].startswith("เตือนภัยสึนามิ")


def test_templates_are_for_dispatchers_and_admins_only(client, auth):
    assert client.get("/api/v1/broadcasts/templates").status_code == 401
    assert client.get("/api/v1/broadcasts/templates", headers=auth.headers("immigration")).status_code == 403
    assert client.get("/api/v1/broadcasts/templates", headers=auth.headers("admin")).status_code == 200


# --- POST /api/v1/broadcasts/preview ----------------------------------------------------------

def test_the_preview_counts_the_recipients_by_language_and_changes_nothing(app, client, auth, tourists):
    for language in ("ru", "ru", "zh", "en"):
        tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language=language)
    tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="de", device_language="ar")  # the phone's
    tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="it")  # read in English
    tourists.add(lat=IN_PHUKET_TOWN[0], lon=IN_PHUKET_TOWN[1], language="ru")  # outside
    tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="ru", status="closed")  # not tracked

    response = client.post("/api/v1/broadcasts/preview", json={"area": AREA}, headers=auth.headers("dispatcher"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["recipients"] == 6
    assert body["languages"] == [
        {"tag": "en", "name": "English", "count": 2}, {"tag": "ru", "name": "Русский", "count": 2},
        {"tag": "zh", "name": "中文", "count": 1}, {"tag": "ar", "name": "العربية", "count": 1}]
    assert outbox_rows(app) == []
    assert client.get("/api/v1/broadcasts", headers=auth.headers("dispatcher")).get_json()["items"] == []


def test_a_zone_preview_and_an_empty_area(app, client, auth, tourists):
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
    tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="ja")
    headers = auth.headers("dispatcher")
    body = client.post("/api/v1/broadcasts/preview", json={"area": {"zone_id": zone_id}}, headers=headers).get_json()
    assert body == {"recipients": 1, "languages": [{"tag": "ja", "name": "日本語", "count": 1}]}
    town = [[98.38, 7.87], [98.40, 7.87], [98.40, 7.89], [98.38, 7.89], [98.38, 7.87]]
    body = client.post("/api/v1/broadcasts/preview", json={"area": {"type": "Polygon", "coordinates": [town]}},
                       headers=headers).get_json()
    assert body == {"recipients": 0, "languages": []}


@pytest.mark.parametrize("body", [
    {}, {"area": None}, {"area": {}}, {"area": "Patong"}, {"area": {"zone_id": "abc"}},
    {"area": {"zone_id": 999999}}, {"area": {"zone_id": -1}},
    {"area": {"type": "Polygon", "coordinates": [PATONG[:-1]]}},
    {"area": {"type": "Polygon", "coordinates": [[[lat, lon] for lon, lat in PATONG]]}},  # swapped
    {"area": {"type": "Polygon", "coordinates": [[[98.3, 95.0], [98.4, 7.9], [98.3, 7.8], [98.3, 95.0]]]}},
    {"area": AREA, "headline": "extra"},
])
def test_a_bad_preview_is_422(client, auth, body):
    response = client.post("/api/v1/broadcasts/preview", json=body, headers=auth.headers("dispatcher"))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == 422 and response.get_json()["errors"]


def test_the_preview_is_for_dispatchers_and_refuses_oversize_bodies(app, client, auth):
    assert client.post("/api/v1/broadcasts/preview", json={"area": AREA}).status_code == 401
    assert client.post("/api/v1/broadcasts/preview", json={"area": AREA},
                       headers=auth.headers("immigration")).status_code == 403
    huge = {"area": {"type": "Polygon", "coordinates": [PATONG * (app.config["MAX_CONTENT_LENGTH"] // 40)]}}
    assert client.post("/api/v1/broadcasts/preview", json=huge,
                       headers=auth.headers("dispatcher")).status_code == 413


# --- POST /api/v1/broadcasts with a template --------------------------------------------------

def test_russian_and_chinese_tourists_get_the_red_flag_in_their_language(app, client, auth, runner, tourists,
                                                                         fcm, fcm_config):
    app.config.update(fcm_config)
    russian = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="ru")
    chinese = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="zh")
    english = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="en")
    response = client.post("/api/v1/broadcasts", json={"template": "rip_current_red_flag", "area": AREA},
                           headers=auth.headers("dispatcher"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["recipients"] == 3
    with app.app_context():
        assert runner.invoke(args=["sweep"]).exit_code == 0

    sent = {m["token"]: m for m in fcm.sends()}
    assert len(sent) == 3
    ru = sent[russian["tokens"][0]]["notification"]
    assert ru["title"] == "Красный флаг: опасные разрывные течения"
    assert ru["body"].startswith("Спасатели подняли красные флаги") and "191" in ru["body"]
    zh = sent[chinese["tokens"][0]]["notification"]
    assert zh["title"] == "红旗警告：危险离岸流" and zh["body"].startswith("救生员已升起红旗")
    assert sent[english["tokens"][0]]["notification"]["title"] == "Red flag: dangerous rip currents"
    assert sent[russian["tokens"][0]]["data"]["severity"] == "Severe"  # the template's severity
    rows = {r.card_id: r for r in outbox_rows(app, broadcast_id=response.get_json()["id"])}
    assert (rows[russian["card_id"]].language, rows[chinese["card_id"]].language) == ("ru", "zh")
    assert all(r.status == "sent" for r in rows.values())


def test_each_tourist_reads_the_template_in_their_language_and_cap_has_one_info_per_language(
        app, client, auth, tourists):
    cards = {lang: tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language=lang)["card_id"]
             for lang in TWELVE}
    response = client.post("/api/v1/broadcasts", json={"template": "tsunami_warning", "area": AREA},
                           headers=auth.headers("dispatcher"))
    assert response.status_code == 201, response.get_json()
    broadcast_id = response.get_json()["id"]
    rows = {r.card_id: r for r in outbox_rows(app, broadcast_id=broadcast_id)}
    for lang, card_id in cards.items():
        assert rows[card_id].language == lang
        assert rows[card_id].title == messages.text("broadcast.tsunami_warning.headline", lang)
        assert rows[card_id].body == messages.text("broadcast.tsunami_warning.message", lang)

    document = client.get(f"/api/v1/broadcasts/{broadcast_id}/cap.xml").data
    xmlschema.XMLSchema(DATA / "CAP-v1.2.xsd").validate(document)
    infos = ET.fromstring(document).findall(f"{CAP}info")
    assert [i.find(f"{CAP}language").text for i in infos] == TWELVE
    arabic = infos[TWELVE.index("ar")]
    assert arabic.find(f"{CAP}headline").text == messages.text("broadcast.tsunami_warning.headline", "ar")
    assert arabic.find(f"{CAP}severity").text == "Extreme" and arabic.find(f"{CAP}category").text == "Geo"
    assert arabic.find(f"{CAP}event").text == "Tsunami warning"


def test_free_text_with_a_template_reaches_everyone_as_written_under_the_translated_headline(
        app, client, auth, tourists):
    russian = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="ru")
    thai = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="th")
    english = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="en")
    free = "Patong pier is closed until 18:00 today because of a fuel leak."
    response = client.post("/api/v1/broadcasts", json={"template": "pier_closure", "message": free,
                                                        "severity": "Severe", "area": AREA},
                           headers=auth.headers("dispatcher"))
    assert response.status_code == 201, response.get_json()
    rows = {r.card_id: r for r in outbox_rows(app, broadcast_id=response.get_json()["id"])}
    assert rows[russian["card_id"]].title == "Причал закрыт" and rows[russian["card_id"]].body == free
    assert rows[thai["card_id"]].title == "ปิดท่าเรือ" and rows[thai["card_id"]].body == free
    assert rows[english["card_id"]].title == "Pier closed" and rows[english["card_id"]].body == free
    detail = client.get(f"/api/v1/broadcasts/{response.get_json()['id']}", headers=auth.headers("dispatcher"))
    assert detail.get_json()["severity"] == "Severe"  # given explicitly: it wins over the template's


def test_a_headline_of_its_own_replaces_the_template_only_in_its_language(app, client, auth, tourists):
    german = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="de")
    korean = tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="ko")
    response = client.post("/api/v1/broadcasts", json={
        "template": "jellyfish", "language": "de", "headline": "Quallen am Kata Beach", "area": AREA},
        headers=auth.headers("dispatcher"))
    assert response.status_code == 201, response.get_json()
    rows = {r.card_id: r for r in outbox_rows(app, broadcast_id=response.get_json()["id"])}
    assert rows[german["card_id"]].title == "Quallen am Kata Beach"
    assert rows[german["card_id"]].body == messages.text("broadcast.jellyfish.message", "de")
    assert rows[korean["card_id"]].title == messages.text("broadcast.jellyfish.headline", "ko")


@pytest.mark.parametrize(("body", "field"), [
    ({"template": "volcano", "area": AREA}, "template"),
    ({"template": 5, "area": AREA}, "template"),
    ({"template": None, "area": AREA}, "template"),
    ({"template": ["heat"], "area": AREA}, "template"),
    ({"template": "heat"}, "area"),
    ({"template": "heat", "area": AREA, "severity": "Apocalyptic"}, "severity"),
    ({"template": "heat", "area": AREA, "message": ""}, "message"),
    ({"template": "heat", "area": AREA, "message": "x" * 4001}, "message"),
    ({"message": "no headline", "severity": "Minor", "area": AREA}, "headline"),
    ({"headline": "no message", "severity": "Minor", "area": AREA}, "message"),
    ({"headline": "h", "message": "no severity", "area": AREA}, "severity"),
])
def test_bad_template_broadcasts_are_422_and_change_nothing(app, client, auth, tourists, body, field):
    tourists.add(lat=ON_THE_BEACH[0], lon=ON_THE_BEACH[1], language="ru")
    response = client.post("/api/v1/broadcasts", json=body, headers=auth.headers("dispatcher"))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"], response.get_json()
    assert outbox_rows(app) == []
    assert client.get("/api/v1/broadcasts", headers=auth.headers("dispatcher")).get_json()["items"] == []


def test_templates_are_sent_by_dispatchers_only(client, auth):
    body = {"template": "heat", "area": AREA}
    assert client.post("/api/v1/broadcasts", json=body).status_code == 401
    assert client.post("/api/v1/broadcasts", json=body, headers=auth.headers("immigration")).status_code == 403


def test_template_placeholders_match_english():
    for template in TEMPLATE_IDS:
        for field in ("headline", "message"):
            english = messages.text(f"broadcast.{template}.{field}", "en")
            for lang in TWELVE:
                assert _placeholders(messages.text(f"broadcast.{template}.{field}", lang)) == _placeholders(english)
