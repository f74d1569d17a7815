"""Finding a card at the checkpoint: GET /api/v1/cards?q= by passport number, name or card id."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.extensions import db
from tests.cards.conftest import payload


@pytest.fixture
def cards(issue) -> dict[str, dict]:
    """Four holders in four scripts."""
    return {
        "ivan": issue(full_name="Иван Петрович Иванов", nationality="RUS", passport_number="75 1234567",
                      latin_name="IVANOV<<IVAN<PETROVICH"),
        "somchai": issue(full_name="สมชาย ใจดี", nationality="THA", passport_number="AA1234567",
                         latin_name="JAIDEE<<SOMCHAI"),
        "anna": issue(full_name="Anna Müller", nationality="DEU", passport_number="C01X00T47"),
        "wang": issue(full_name="王小明", nationality="CHN", passport_number="E12345678"),
    }


def find(client, headers, q, **params):  # noqa: ANN001
    response = client.get("/api/v1/cards", query_string={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(body) -> list[str]:  # noqa: ANN001
    return [item["card_id"] for item in body["items"]]


@pytest.mark.parametrize(("q", "who"), [
    ("751234567", "ivan"), ("75 1234567", "ivan"), ("aa1234567", "somchai"),    # passport number, any case/spaces
    ("иванов", "ivan"), ("ИВАН ПЕТРОВИЧ", "ivan"),                             # Cyrillic, any case
    ("ivanov", "ivan"), ("Ivan Ivanov", "ivan"), ("IVANOV, IVAN", "ivan"),      # the Latin (MRZ) name, any order
    ("สมชาย", "somchai"), ("jaidee", "somchai"),                                # Thai, and its Latin name
    ("Müller", "anna"), ("mueller", "anna"),                                    # the derived Latin name
    ("小明", "wang"),
])
def test_find_by_each_key(client, officer, cards, q, who):
    body = find(client, officer, q)
    assert ids(body) == [cards[who]["card_id"]]
    assert body["next_cursor"] is None


def test_find_by_card_id_as_typed_and_the_result_shows_what_the_officer_needs(client, officer, cards):
    card_id = cards["ivan"]["card_id"]
    for typed in (card_id, card_id.lower(), f"{card_id[:3]}-{card_id[3:6]}-{card_id[6:]}",
                  f" {card_id[:3].lower()} {card_id[3:6]} {card_id[6:]} "):
        body = find(client, officer, typed)
        assert ids(body) == [card_id]
    [item] = find(client, officer, card_id)["items"]
    assert item["full_name"] == "Иван Петрович Иванов" and item["latin_name"] == "IVANOV, IVAN PETROVICH"
    assert item["nationality"] == "RUS" and item["passport_number"] == "751234567" and item["status"] == "active"
    assert item["stay_until"] == payload()["stay_until"] and item["links"]["print"] == f"/cards/{card_id}/print"
    assert item["card_id_display"] == f"{card_id[:3]}-{card_id[3:6]}-{card_id[6:]}"


def test_nothing_found_is_an_empty_list(client, officer, cards):
    assert find(client, officer, "Nobody Here") == {"items": [], "next_cursor": None}


def test_revoked_and_closed_cards_are_found_with_their_status(client, officer, cards):
    client.post(f"/api/v1/cards/{cards['anna']['card_id']}/revoke", json={"reason": "passport stolen"},
                headers=officer)
    [item] = find(client, officer, "anna")["items"]
    assert item["status"] == "revoked" and item["revoke_reason"] == "passport stolen"


def test_paging_newest_first_without_gaps_or_duplicates(client, officer, issue):
    issued = [issue(full_name=f"Kim Minji {i}", passport_number=f"M{i:07d}", nationality="KOR")["card_id"]
              for i in range(5)]
    seen, cursor = [], None
    while True:
        body = find(client, officer, "kim minji", limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(body["items"]) <= 2
        seen += ids(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(issued) and len(seen) == len(set(seen)) == 5


def test_searches_are_audited_as_reads_of_personal_data(app, client, officer, cards):
    find(client, officer, "75 1234567")
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ["card.search", "card.read"])).order_by(AuditEntry.id)))
        assert [(e.action, e.card_id) for e in entries] == [("card.search", None),
                                                             ("card.read", cards["ivan"]["card_id"])]
        assert entries[0].detail == {"q": "75 1234567", "count": 1} and entries[0].actor_role == "immigration"
        assert entries[1].detail == {"view": "search", "q": "75 1234567"}


def test_a_dispatcher_taking_a_call_may_search_audited_alike(app, client, auth, cards):
    dispatcher = auth.headers("dispatcher")
    assert ids(find(client, dispatcher, "ivanov")) == [cards["ivan"]["card_id"]]
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ["card.search", "card.read"])).order_by(AuditEntry.id)))
        assert [(e.action, e.card_id, e.actor_role) for e in entries] == [
            ("card.search", None, "dispatcher"), ("card.read", cards["ivan"]["card_id"], "dispatcher")]
        assert entries[1].detail == {"view": "search", "q": "ivanov"}


@pytest.mark.parametrize("role", ["hotel_manager", "marine_operator"])
def test_other_roles_may_not_search(app, client, auth, factories, cards, role):
    if role == "marine_operator":
        from tests.marine.conftest import make_operator, operator_headers

        headers = operator_headers(app, client, make_operator(app, "Andaman Sea Tours"), "crew-search")
    else:
        headers = auth.headers(role, hotel_id=factories.hotel())
    response = client.get("/api/v1/cards", query_string={"q": "ivanov"}, headers=headers)
    assert response.status_code == 403 and response.get_json()["code"] == 403
    assert "IVANOV" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "card.search")) is None


def test_admin_may_search_and_anonymous_may_not(client, auth, cards):
    admin = auth.headers("admin")
    assert ids(find(client, admin, "王小明")) == [cards["wang"]["card_id"]]
    assert ids(find(client, admin, "wang 小明")) == []  # every word must match ("wang" is in no name of the card)
    assert client.get("/api/v1/cards", query_string={"q": "ivanov"}).status_code == 401


@pytest.mark.parametrize("params", [
    {}, {"q": ""}, {"q": " "}, {"q": "a"}, {"q": "x" * 101}, {"q": "ab\x00"},
    {"q": "ivanov", "limit": 0}, {"q": "ivanov", "limit": 101}, {"q": "ivanov", "limit": "ten"},
    {"q": "ivanov", "limit": -1}, {"q": "ivanov", "cursor": "not-a-cursor"},
    {"q": "ivanov", "cursor": "W10"}, {"q": "ivanov", "cursor": "x" * 201},
])
def test_bad_parameters_are_422(client, officer, cards, params):
    response = client.get("/api/v1/cards", query_string=params, headers=officer)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == 422 and body["message"] and body["errors"]


def test_openapi_documents_the_search_and_the_latin_name(client):
    doc = client.get("/openapi.json").get_json()
    search = doc["paths"]["/api/v1/cards"]["get"]
    assert {p["name"] for p in search["parameters"]} == {"q", "limit", "cursor"}
    schemas = doc["components"]["schemas"]
    assert {"latin_name", "stay_until", "passport_number"} <= schemas["CardFound"]["properties"].keys()
    assert "latin_name" in schemas["CardIssue"]["properties"]
    checkin = schemas["CheckinInput"]["properties"]
    assert {"card_token", "card_id", "passport_number", "room"} <= checkin.keys()
    assert "429" in doc["paths"]["/api/v1/hotels/{hotel_id}/checkins"]["post"]["responses"]
