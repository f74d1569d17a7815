"""What tourists read: translations, danger-zone advice, expiry notices, the embedded default
(no push provider) and the companion app's inbox."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from shapely.geometry import MultiPolygon, Polygon

from notifications import messages
from tests.notifications.conftest import outbox_rows

PATONG = [[98.270, 7.880], [98.310, 7.880], [98.310, 7.910], [98.270, 7.910], [98.270, 7.880]]


def test_every_topic_renders_in_all_twelve_languages():
    for topic in messages.TOPICS:
        english = messages.render(topic, "en")
        for lang in messages.SUPPORTED_LANGUAGES:
            rendered = messages.render(topic, lang)
            assert rendered.language == lang and rendered.title.strip() and rendered.body.strip(), (topic, lang)
            if lang != "en":
                assert (rendered.title, rendered.body) != (english.title, english.body), (topic, lang)


def _placeholders(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


@pytest.mark.parametrize(("tags", "expected"), [
    (("zh-Hans-CN", "en"), "zh"), (("ru_RU",), "ru"), ((None, "th"), "th"), (("de", "fr"), "de"),
    ((None, None), "en"), (("", "RU"), "ru"), (("it", "pt"), "en"),
])
def test_language_is_the_devices_then_the_card_holders_then_english(tags, expected):
    assert messages.choose_language(*tags) == expected


def raise_incident(app, card_id, kind, **kwargs):
    """An incident through the dispatch service (committed); returns its id."""
    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident as raise_
    from backend.extensions import db

    with app.app_context():
        incident, _ = raise_(card_id=card_id, kind=IncidentKind(kind), severity=Severity.HIGH, lat=7.8961,
                             lon=98.2966, **kwargs)
        db.session.commit()
        return incident.id


def add_danger_zone(app) -> int:
    from backend.extensions import db
    from backend.geometry import to_element
    from geo.models import Zone

    with app.app_context():
        zone = Zone(name="Patong Beach rip currents", name_th="เขตอันตรายกระแสน้ำย้อนกลับ หาดป่าตอง", kind="danger",
                    severity="high", description="Strong rip currents off Patong Beach in the monsoon.",
                    advice="Do not swim when red flags fly; if caught, swim parallel to the shore.",
                    geom=to_element(MultiPolygon([Polygon(PATONG)])))
        db.session.add(zone)
        db.session.commit()
        return zone.id


def test_entering_a_danger_zone_says_what_the_danger_is_and_what_to_do(app, tourists):
    zone_id = add_danger_zone(app)
    english = tourists.add(language="en")
    thai = tourists.add(language="th")
    raise_incident(app, english["card_id"], "danger_zone", zone_id=zone_id)
    raise_incident(app, thai["card_id"], "danger_zone", zone_id=zone_id)

    [en] = outbox_rows(app, card_id=english["card_id"])
    assert en.topic == "danger_zone" and en.title == "Danger: Patong Beach rip currents"
    assert "Strong rip currents off Patong Beach" in en.body and "swim parallel to the shore" in en.body
    [th] = outbox_rows(app, card_id=thai["card_id"])
    assert th.title == "อันตราย: เขตอันตรายกระแสน้ำย้อนกลับ หาดป่าตอง"
    assert "สิ่งที่ควรทำ" in th.body and "swim parallel to the shore" in th.body  # Thai frame, zone specifics


def test_leaving_the_area_and_unknown_language_falls_back_to_english(app, tourists):
    tourist = tourists.add(language="it")
    raise_incident(app, tourist["card_id"], "left_area")
    [row] = outbox_rows(app, card_id=tourist["card_id"])
    assert row.language == "en" and row.title == "You have left the Phuket service area"
    assert "1155" in row.body


def test_a_repeat_of_an_open_incident_does_not_notify_again(app, tourists):
    tourist = tourists.add(language="en")
    raise_incident(app, tourist["card_id"], "left_area")
    raise_incident(app, tourist["card_id"], "left_area")
    assert len(outbox_rows(app, card_id=tourist["card_id"])) == 1


def test_card_about_to_expire_is_noticed_once(app, runner, tourists):
    soon = tourists.add(language="ru", days=1)
    later = tourists.add(language="ru", days=10)
    closed = tourists.add(days=1, status="closed")
    for _ in range(2):
        with app.app_context():
            result = runner.invoke(args=["sweep"])
        assert result.exit_code == 0, result.output
    [row] = outbox_rows(app, topic="card_expiring")
    assert row.card_id == soon["card_id"]
    assert row.title == "Срок действия вашей карты туриста скоро истекает" and soon["card_id"] in row.body
    assert row.expires_at is not None
    assert outbox_rows(app, card_id=later["card_id"]) == outbox_rows(app, card_id=closed["card_id"]) == []


def test_without_credentials_messages_are_held_in_the_outbox_and_logged(app, runner, tourists, caplog):
    assert not app.config.get("FIREBASE_CREDENTIALS")
    tourist = tourists.add(language="en")
    raise_incident(app, tourist["card_id"], "sos")
    # migrations/env.py's fileConfig() disables loggers that existed when the test databases
    # were migrated; a served app never runs migrations in-process.
    logging.getLogger("notifications.push").disabled = False
    with caplog.at_level(logging.INFO, logger="notifications.push"), app.app_context():
        result = runner.invoke(args=["sweep"])
    assert "push: held 1" in result.output
    [row] = outbox_rows(app, card_id=tourist["card_id"])
    assert row.status == "held" and "FIREBASE_CREDENTIALS" in row.last_error
    assert any("SOS received" in r.getMessage() for r in caplog.records)
    with app.app_context():
        runner.invoke(args=["sweep"])
    assert outbox_rows(app, card_id=tourist["card_id"])[0].attempts == 1  # not retried every pass


def test_the_inbox_lists_the_cards_messages_newest_first_one_per_event(app, client, auth, tourists):
    from backend.extensions import db
    from notifications.models import OutboxMessage

    tourist = tourists.add(lat=7.8961, lon=98.2966, language="en", devices=2)
    other = tourists.add(lat=7.8961, lon=98.2966, language="en")
    raise_incident(app, tourist["card_id"], "sos")
    raise_incident(app, other["card_id"], "left_area")
    broadcast = client.post("/api/v1/broadcasts", headers=auth.headers("dispatcher"), json={
        "headline": "Storm warning", "message": "Thunderstorms this evening.", "severity": "Moderate",
        "area": {"type": "Polygon", "coordinates": [PATONG]}}).get_json()
    with app.app_context():  # the broadcast came later than the SOS message
        for row in db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.broadcast_id.is_(None))):
            row.created_at -= timedelta(minutes=5)
        db.session.commit()

    token = tourists.device_token(tourist["device_ids"][1])
    response = client.get("/api/v1/mobile/messages", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert [i["topic"] for i in items] == ["broadcast", "sos_received"]  # one per event, not per device
    assert items[0]["broadcast_id"] == broadcast["id"] and items[0]["title"] == "Storm warning"
    assert items[1]["title"] == "SOS received" and items[1]["delivery"] == "pending"
    assert all(i["id"] in {r.id for r in outbox_rows(app, device_id=tourist["device_ids"][1])} for i in items)

    page = client.get(f"/api/v1/mobile/messages?limit=1&before_id={items[0]['id']}",
                      headers={"Authorization": f"Bearer {token}"}).get_json()["items"]
    assert [i["topic"] for i in page] == ["sos_received"]


def test_the_inbox_needs_a_device_token(client, auth):
    assert client.get("/api/v1/mobile/messages").status_code == 401
    assert client.get("/api/v1/mobile/messages", headers=auth.headers("admin")).status_code == 401
    assert client.get("/api/v1/mobile/messages?limit=0", headers={"Authorization": "Bearer x"}).status_code == 401


def test_inbox_paging_is_validated(tourists, client):
    tourist = tourists.add()
    token = tourists.device_token(tourist["device_ids"][0])
    headers = {"Authorization": f"Bearer {token}"}
    for query in ("limit=0", "limit=1000", "limit=abc", "before_id=-1"):
        response = client.get(f"/api/v1/mobile/messages?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.get_json()["errors"]
