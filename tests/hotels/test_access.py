"""Who may do what: a manager only at their own hotel, admins everywhere, other roles nowhere."""

from __future__ import annotations

import pytest

from tests.hotels.conftest import checkin, guest_list

VALID_HOTEL = {"name": "Hijacked", "lat": 7.89, "lon": 98.30}


def _requests_on(hotel_id: int, stay_id: int, card_token: str) -> list[tuple[str, str, dict | None]]:
    """Every hotels endpoint about ``hotel_id``, with a valid body."""
    base = f"/api/v1/hotels/{hotel_id}"
    return [
        ("GET", base, None),
        ("PUT", base, VALID_HOTEL),
        ("GET", f"{base}/guests", None),
        ("POST", f"{base}/checkins", {"card_token": card_token, "room": "9"}),
        ("POST", f"{base}/checkins/verify", {"card_token": card_token}),
        ("POST", f"{base}/stays/{stay_id}/checkout", None),
        ("GET", f"{base}/managers", None),
        ("POST", f"{base}/managers", {"username": "intruder", "password": "long enough pw"}),
        ("POST", f"{base}/managers/1/deactivate", None),
    ]


def test_manager_of_hotel_b_gets_403_on_everything_of_hotel_a(app, client, factories, hotels):
    guest = factories.issued_card(full_name="Guest Of A")
    stay_id = checkin(client, hotels.a, hotels.manager_a, guest["card_token"], room="1").get_json()["stay_id"]
    other = factories.issued_card()
    for method, url, body in _requests_on(hotels.a, stay_id, other["card_token"]):
        response = client.open(url, method=method, headers=hotels.manager_b, json=body)
        assert response.status_code == 403, (method, url, response.get_json())
        assert response.get_json()["code"] == 403
        assert "Guest Of A" not in response.get_data(as_text=True)
    # hotel A is untouched: the guest is still in house, nobody else was checked in
    assert [g["card_id"] for g in guest_list(client, hotels.a, hotels.manager_a)] == [guest["card_id"]]
    # nor can B check A's guest out through B's own hotel id
    response = client.post(f"/api/v1/hotels/{hotels.b}/stays/{stay_id}/checkout", headers=hotels.manager_b)
    assert response.status_code == 404
    assert len(guest_list(client, hotels.a, hotels.manager_a)) == 1


def test_manager_gets_403_for_a_hotel_id_that_does_not_exist(client, hotels):
    # the same answer as for another hotel: hotel ids cannot be probed
    assert client.get("/api/v1/hotels/424242/guests", headers=hotels.manager_b).status_code == 403
    assert client.get("/api/v1/hotels/424242/guests", headers=hotels.admin).status_code == 404
    assert client.get("/api/v1/hotels/424242", headers=hotels.admin).status_code == 404


def test_a_manager_without_the_right_body_still_gets_403_first(client, hotels):
    response = client.post(f"/api/v1/hotels/{hotels.a}/checkins", headers=hotels.manager_b, json={"bad": 1})
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["immigration", "dispatcher"])
def test_other_roles_are_403(client, auth, factories, hotels, role):
    headers = auth.headers(role)
    card = factories.issued_card()
    for method, url, body in _requests_on(hotels.a, 1, card["card_token"]):
        assert client.open(url, method=method, headers=headers, json=body).status_code == 403, (method, url)
    assert client.post("/api/v1/hotels", headers=headers, json=VALID_HOTEL).status_code == 403


def test_no_token_is_401(client, hotels):
    for method, url, body in _requests_on(hotels.a, 1, "x.y.z"):
        assert client.open(url, method=method, json=body).status_code == 401, (method, url)


def test_manager_sees_only_their_hotel_in_the_list(client, hotels):
    items = client.get("/api/v1/hotels", headers=hotels.manager_b).get_json()["items"]
    assert [h["id"] for h in items] == [hotels.b]
    everything = client.get("/api/v1/hotels", headers=hotels.admin).get_json()["items"]
    assert {h["id"] for h in everything} == {hotels.a, hotels.b}


def test_manager_may_read_but_not_change_their_hotel(client, hotels):
    response = client.get(f"/api/v1/hotels/{hotels.a}", headers=hotels.manager_a)
    assert response.status_code == 200
    assert response.get_json()["name"] == "Patong Seaview Hotel" and response.get_json()["guests_in_house"] == 0
    assert client.put(f"/api/v1/hotels/{hotels.a}", headers=hotels.manager_a, json=VALID_HOTEL).status_code == 403
    assert client.get(f"/api/v1/hotels/{hotels.a}/managers", headers=hotels.manager_a).status_code == 403
