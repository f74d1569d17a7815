"""Zone names, descriptions and advice in every language, from the seed data, in what tourists read."""

from __future__ import annotations

import json
import string

from sqlalchemy import select

from backend.extensions import db
from geo.models import Zone
from geo.seed import DATA_DIR
from notifications import messages
from tests.notifications.conftest import Tourists, outbox_rows

OTHERS = [lang for lang in messages.SUPPORTED_LANGUAGES if lang != "en"]


def test_the_translation_file_covers_every_zone_in_every_language():
    zones = json.loads((DATA_DIR / "zones.geojson").read_text(encoding="utf-8"))["features"]
    translations = json.loads((DATA_DIR / "zones.i18n.json").read_text(encoding="utf-8"))["zones"]
    assert sorted(translations) == sorted(f["properties"]["slug"] for f in zones)
    for feature in zones:
        props = feature["properties"]
        by_language = translations[props["slug"]]
        assert sorted(by_language) == sorted(OTHERS), props["slug"]
        for lang, text in by_language.items():
            assert sorted(text) == ["advice", "description", "name"], (props["slug"], lang)
            for field, value in text.items():
                assert value.strip() and value != props[field], (props["slug"], lang, field)
                assert not [n for _, n, _, _ in string.Formatter().parse(value) if n], "no leftover placeholders"
        assert by_language["th"]["name"] == props["name_th"]
        # each zone's name is its own in every language (no two beaches share a translated name)
    for lang in OTHERS:
        names = [translations[f["properties"]["slug"]][lang]["name"] for f in zones]
        assert len(set(names)) == len(names), lang


def test_seed_stores_the_translations_and_the_zones_api_serves_them(seeded, client):
    with seeded.app_context():
        patong = db.session.scalar(select(Zone).where(Zone.slug == "rip-patong"))
        assert sorted(patong.translations) == sorted(OTHERS)
        assert patong.localized("ru")[0] == "Разрывные течения: пляж Патонг"
        assert patong.localized("en") == (patong.name, patong.description, patong.advice)
    features = client.get("/api/v1/zones").get_json()["features"]
    served = next(f for f in features if f["properties"]["slug"] == "rip-patong")["properties"]
    assert served["translations"]["ar"]["name"] == "تيارات ساحبة: شاطئ باتونغ"
    assert served["translations"]["zh"]["advice"].startswith("挂红旗时请勿游泳")


def test_a_second_seed_changes_nothing_and_keeps_translations(seeded, runner):
    with seeded.app_context():
        result = runner.invoke(args=["seed"])
    assert result.exit_code == 0 and "zones: 0 created, 0 updated" in result.output


def test_the_danger_zone_warning_uses_the_zones_own_translation(seeded, factories):
    from backend.dispatch.models import IncidentKind, Severity
    from backend.dispatch.service import raise_incident

    tourists = Tourists(seeded, factories)
    readers = {lang: tourists.add(language=lang) for lang in ("ru", "ja", "he", "en")}
    with seeded.app_context():
        patong = db.session.scalar(select(Zone).where(Zone.slug == "rip-patong"))
        zone_id, english_advice = patong.id, patong.advice
        for reader in readers.values():
            raise_incident(card_id=reader["card_id"], kind=IncidentKind.DANGER_ZONE, severity=Severity.HIGH,
                           lat=7.896, lon=98.2917, zone_id=zone_id)
        db.session.commit()
    rows = {r.card_id: r for r in outbox_rows(seeded, topic="danger_zone")}
    russian = rows[readers["ru"]["card_id"]]
    assert russian.language == "ru" and russian.title == "Опасность: Разрывные течения: пляж Патонг"
    assert "у пляжа Патонг" in russian.body and "плывите параллельно берегу" in russian.body
    assert "(EN)" not in russian.body and english_advice not in russian.body
    japanese = rows[readers["ja"]["card_id"]]
    assert japanese.title == "危険：パトンビーチの離岸流" and "赤旗が出ているときは泳がないでください" in japanese.body
    hebrew = rows[readers["he"]["card_id"]]
    assert hebrew.title == "סכנה: זרמי סחף: חוף פטונג" and "(EN)" not in hebrew.body
    assert rows[readers["en"]["card_id"]].title == "Danger: Patong Beach rip currents"
