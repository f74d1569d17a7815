"""A card id is accepted as printed or typed everywhere one is sent (contract v1.1, "Companion app").

Upper or lower case, with or without the hyphens and spaces: ``akt vm4-hzj`` is ``AKT-VM4-HZJ``.
Each entry point is tried with the printed form and with ways a tourist, an officer or a hotel
clerk types it.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from backend import card_ids


def typed_forms(card_id: str) -> list[str]:
    """The printed form and typed variants of a stored card id."""
    printed = card_ids.display(card_id)  # AKT-VM4-HZJ
    lower = card_id.lower()
    return [
        printed,
        printed.lower(),
        f"{lower[:3]} {lower[3:6]}-{lower[6:]}",  # akt vm4-hzj
        f" {card_id[:3]} {card_id[3:6]} {card_id[6:]} ",
        printed.replace("-", "\u2013"),  # an en dash from a phone keyboard's autocorrect
        "".join(chr(ord(ch) + 0xFEE0) for ch in printed),  # full-width, from a Chinese or Japanese IME
    ]


def test_canonical_reads_the_contract_example():
    assert card_ids.canonical("akt vm4-hzj") == card_ids.canonical("AKT-VM4-HZJ") == "AKTVM4HZJ"


@pytest.mark.parametrize("form", range(len(typed_forms("AKTVM4HZJ"))))
def test_enroll_with_the_card_id_as_printed(client, factories, form):
    card = factories.issued_card()
    typed = typed_forms(card["card_id"])[form]
    response = client.post("/api/v1/mobile/enroll", json={
        "card_id": typed, "enrollment_code": card["enrollment_code"], "platform": "android"})
    assert response.status_code == 201, (typed, response.get_json())
    assert response.get_json()["card_id"] == card["card_id"]


def test_enroll_with_a_typed_card_id_and_a_wrong_code_is_still_401(client, factories):
    card = factories.issued_card()
    response = client.post("/api/v1/mobile/enroll", json={
        "card_id": card_ids.display(card["card_id"]).lower(), "enrollment_code": "WRNG-CODE", "platform": "ios"})
    assert response.status_code == 401


@pytest.mark.parametrize("blank", ["", " - ", "---"])
def test_a_card_id_of_separators_only_is_422(client, blank):
    response = client.post("/api/v1/mobile/enroll", json={
        "card_id": blank, "enrollment_code": "ABCD-EFGH", "platform": "ios"})
    assert response.status_code == 422 and "card_id" in response.get_json()["errors"]["json"]


@pytest.mark.parametrize("suffix", ["", "/qr.png", "/qr.svg"])
def test_card_paths_take_the_card_id_as_typed(client, factories, auth, suffix):
    card = factories.issued_card()
    headers = auth.headers("immigration")
    for typed in typed_forms(card["card_id"]):
        response = client.get(f"/api/v1/cards/{quote(typed)}{suffix}", headers=headers)
        assert response.status_code == 200, (typed, response.status_code)
        if not suffix:
            assert response.get_json()["card_id"] == card["card_id"]


def test_revoke_close_and_new_enrollment_code_by_typed_card_id(client, factories, auth):
    headers = auth.headers("immigration")
    first, second = factories.issued_card(), factories.issued_card()
    typed = quote(card_ids.display(first["card_id"]).lower())
    response = client.post(f"/api/v1/cards/{typed}/enrollment-code", headers=headers)
    assert response.status_code == 201 and response.get_json()["card_id"] == first["card_id"]
    response = client.post(f"/api/v1/cards/{typed}/revoke", json={"reason": "lost"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "revoked"
    response = client.post(f"/api/v1/cards/{quote(typed_forms(second['card_id'])[2])}/close", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "closed"


def test_the_print_page_by_typed_card_id(client, factories):
    card = factories.issued_card()
    response = client.get(f"/cards/{quote(card_ids.display(card['card_id']).lower())}/print")
    assert response.status_code == 200 and card["card_id"].encode() in response.data


def test_hotel_checkin_and_verify_with_the_typed_card_id(client, factories, auth):
    hotel = factories.hotel()
    headers = auth.headers("hotel_manager", hotel_id=hotel)
    card = factories.issued_card()
    for typed in typed_forms(card["card_id"]):
        response = client.post(f"/api/v1/hotels/{hotel}/checkins/verify", headers=headers,
                               json={"card_token": card["card_token"], "card_id": typed})
        assert response.status_code == 200 and response.get_json()["valid"] is True, (typed, response.get_json())
    response = client.post(f"/api/v1/hotels/{hotel}/checkins", headers=headers,
                           json={"card_token": card["card_token"], "card_id": typed_forms(card["card_id"])[2]})
    assert response.status_code == 201 and response.get_json()["card_id"] == card["card_id"]


def test_dispatch_by_typed_card_id(client, factories, auth):
    headers = auth.headers("dispatcher")
    card = factories.issued_card()
    printed, typed = card_ids.display(card["card_id"]), typed_forms(card["card_id"])[2]
    response = client.post("/api/v1/dispatch/incidents", headers=headers,
                           json={"card_id": typed, "kind": "sos", "note": "caller read the card number"})
    assert response.status_code == 201 and response.get_json()["card_id"] == card["card_id"]
    listed = client.get("/api/v1/dispatch/incidents", query_string={"card_id": printed.lower()}, headers=headers)
    assert [i["card_id"] for i in listed.get_json()["items"]] == [card["card_id"]]
    track = client.get(f"/api/v1/dispatch/cards/{quote(typed)}/track", headers=headers)
    assert track.status_code == 200 and track.get_json()["card_id"] == card["card_id"]


def test_audit_filter_by_typed_card_id(client, factories, auth):
    card = factories.issued_card()
    client.get(f"/api/v1/cards/{card['card_id']}", headers=auth.headers("immigration"))
    response = client.get("/api/v1/audit", query_string={"card_id": typed_forms(card["card_id"])[1]},
                          headers=auth.headers("admin"))
    assert response.status_code == 200
    assert {e["card_id"] for e in response.get_json()["items"]} == {card["card_id"]}


def test_a_mistyped_check_character_is_still_named(client, factories, auth):
    card = factories.issued_card()
    wrong = card["card_id"][:-1] + ("0" if card["card_id"][-1] != "0" else "1")
    response = client.get(f"/api/v1/cards/{quote(card_ids.display(wrong).lower())}", headers=auth.headers("immigration"))
    assert response.status_code == 404 and "check character" in response.get_json()["message"]
