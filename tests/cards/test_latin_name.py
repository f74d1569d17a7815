"""The passport's Latin-script name: given from the MRZ, or derived from a Latin-script full name."""

from __future__ import annotations

import pytest

from backend.cards import latin_names
from tests.cards.conftest import payload


@pytest.mark.parametrize(("full_name", "latin_name"), [
    ("Anna Müller", "ANNA MUELLER"),            # ICAO 9303: Ü → UE
    ("Søren Ærø Ågård", "SOEREN AEROE AAGAARD"),   # Ø → OE, Æ → AE, Å → AA
    ("José María Ñúñez-O'Brien", "JOSE MARIA NUNEZ OBRIEN"),  # accents dropped, hyphen a space, no apostrophe
    ("Jürgen Großmann", "JUERGEN GROSSMANN"),    # ß → SS
    ("Çağla Şahin", "CAGLA SAHIN"),
])
def test_a_latin_script_name_is_derived(client, officer, full_name, latin_name):
    body = client.post("/api/v1/cards", json=payload(full_name=full_name), headers=officer).get_json()
    card = client.get(f"/api/v1/cards/{body['card_id']}", headers=officer).get_json()
    assert card["full_name"] == full_name and card["latin_name"] == latin_name
    assert card["holder"]["latin_name"] == latin_name


@pytest.mark.parametrize("full_name", ["Иван Петров", "王小明", "สมชาย ใจดี", "佐藤 太郎 Satō Tarō"])
def test_no_latin_name_is_invented_for_another_script(client, officer, full_name):
    body = client.post("/api/v1/cards", json=payload(full_name=full_name), headers=officer).get_json()
    assert client.get(f"/api/v1/cards/{body['card_id']}", headers=officer).get_json()["latin_name"] is None


@pytest.mark.parametrize(("given", "stored"), [
    ("IVANOV<<IVAN<PETROVICH<<<<<<<<<", "IVANOV, IVAN PETROVICH"),  # typed from the MRZ
    ("ivanov<<ivan", "IVANOV, IVAN"),
    ("Ivanov, Ivan", "IVANOV, IVAN"),
    ("Ivan Ivanov", "IVAN IVANOV"),
    ("  SMITH<<  ", "SMITH"),
])
def test_a_given_latin_name_is_stored_as_the_mrz_spells_it(client, officer, given, stored):
    body = client.post("/api/v1/cards", json=payload(full_name="Иван Петрович Иванов", nationality="RUS",
                                                       latin_name=given), headers=officer)
    assert body.status_code == 201, body.get_json()
    card_id = body.get_json()["card_id"]
    assert client.get(f"/api/v1/cards/{card_id}", headers=officer).get_json()["latin_name"] == stored
    # and on the verification reply any staff role sees
    token = body.get_json()["card_token"]
    verified = client.post("/api/v1/cards/verify", json={"card_token": token}, headers=officer).get_json()
    assert verified["card"]["latin_name"] == stored and verified["card"]["full_name"] == "Иван Петрович Иванов"


def test_a_given_latin_name_wins_over_the_derived_one(client, officer):
    body = client.post("/api/v1/cards", json=payload(full_name="Anna Müller", latin_name="MULLER<<ANNA"),
                       headers=officer).get_json()
    assert client.get(f"/api/v1/cards/{body['card_id']}", headers=officer).get_json()["latin_name"] == "MULLER, ANNA"


@pytest.mark.parametrize("latin_name", ["Иван", "IVANOV 2", "<<<", "A, B, C", 42, ["IVAN"], "X" * 201, "王"])
def test_a_bad_latin_name_is_422_and_issues_nothing(client, officer, app, latin_name):
    from sqlalchemy import func, select

    from backend.cards.models import Card
    from backend.extensions import db

    response = client.post("/api/v1/cards", json=payload(latin_name=latin_name), headers=officer)
    assert response.status_code == 422, response.get_json()
    assert "latin_name" in response.get_json()["errors"]["json"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Card.id))) == 0


def test_empty_or_null_latin_name_means_derive(client, officer):
    for given in ("", None):
        body = client.post("/api/v1/cards", json=payload(full_name="Zoë Brontë", latin_name=given),
                           headers=officer).get_json()
        assert client.get(f"/api/v1/cards/{body['card_id']}", headers=officer).get_json()["latin_name"] == "ZOE BRONTE"


def test_transliteration_rules():
    assert latin_names.transliterate("Müller-Lüdenscheidt") == "MUELLER LUEDENSCHEIDT"
    assert latin_names.transliterate("Þórr Øster") == "THORR OESTER"
    assert latin_names.derive("Ivan") == "IVAN" and latin_names.derive("Иван") is None
    assert latin_names.normalize("IVANOV<<IVAN") == "IVANOV, IVAN"
