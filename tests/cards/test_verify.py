"""Verifying card tokens: online (API), offline (jwcrypto + JWKS), forgeries, rotation."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.cards.conftest import verify_offline


def _verify(client, headers, token):
    response = client.post("/api/v1/cards/verify", json={"card_token": token}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (json.loads(base64.urlsafe_b64decode(pad(header))), json.loads(base64.urlsafe_b64decode(pad(payload))),
            signature)


@pytest.fixture
def verifier(auth):
    """A hotel manager's headers: any staff role may verify."""
    return auth.headers("dispatcher")


def test_valid_card_verifies_for_every_staff_role(client, auth, factories, issue):
    body = issue()
    hotel_id = factories.hotel()
    for role in ("immigration", "dispatcher", "hotel_manager", "admin"):
        headers = auth.headers(role, hotel_id=hotel_id if role == "hotel_manager" else None)
        verdict = _verify(client, headers, body["card_token"])
        assert verdict["valid"] is True and verdict["reason"] is None
        assert verdict["card"]["card_id"] == body["card_id"]
        assert verdict["card"]["full_name"] == "Anna Schmidt" and verdict["card"]["status"] == "active"
        assert "passport_number" not in json.dumps(verdict)
    assert client.post("/api/v1/cards/verify", json={"card_token": body["card_token"]}).status_code == 401


def test_forged_and_tampered_tokens_are_refused(client, app, verifier, issue):
    body = issue()
    token = body["card_token"]
    header, claims, signature = _parts(token)
    signing_input = token.rsplit(".", 1)[0]
    jwks = client.get("/.well-known/jwks.json").get_json()

    stranger = ec.generate_private_key(ec.SECP256R1())
    forged_unknown_kid = jwt.encode(claims, stranger, algorithm="ES256",
                                    headers={"kid": "not-our-key-0001", "typ": "pts-card+jwt"})
    forged_our_kid = jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": header["kid"], "typ": "pts-card+jwt"})
    # the classic confusion attack: HS256 keyed with our public key
    with app.app_context():
        from backend.cards import keys

        public_pem = keys.store().public_key(header["kid"]).public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        _, private_key = keys.store().current()
        wrong_typ = jwt.encode(claims, private_key, algorithm="ES256", headers={"kid": header["kid"], "typ": "JWT"})
        wrong_iss = jwt.encode({**claims, "iss": "https://evil.example"}, private_key, algorithm="ES256",
                               headers={"kid": header["kid"], "typ": "pts-card+jwt"})
        ghost_card = jwt.encode({**claims, "sub": "ZZZZZZZZZ", "jti": "ghost"}, private_key, algorithm="ES256",
                                headers={"kid": header["kid"], "typ": "pts-card+jwt"})
    hs256 = (_b64(json.dumps({**header, "alg": "HS256"}).encode()) + "." + signing_input.split(".")[1])
    import hashlib
    import hmac

    hs256 += "." + _b64(hmac.new(public_pem, hs256.encode(), hashlib.sha256).digest())
    alg_none = _b64(json.dumps({**header, "alg": "none"}).encode()) + "." + signing_input.split(".")[1] + "."
    edited = signing_input.split(".")[0] + "." + _b64(json.dumps({**claims, "name": "Mallory"}).encode()) + "." + signature
    extended = signing_input.split(".")[0] + "." + _b64(json.dumps({**claims, "exp": claims["exp"] + 10**7}).encode()) \
        + "." + signature
    cut = token[:-10]
    staff_token = verifier["Authorization"].split()[1]

    cases = {
        "unknown_key": [forged_unknown_kid],
        "bad_signature": [forged_our_kid, edited, extended, cut],
        "bad_algorithm": [hs256, alg_none],
        "wrong_type": [wrong_typ, staff_token],
        "wrong_issuer": [wrong_iss],
        "unknown_card": [ghost_card],
        "malformed": ["", "abc", "a.b.c", "x" * 5000, token + ".extra"],
    }
    for reason, tokens in cases.items():
        for bad in tokens:
            if not bad:
                response = client.post("/api/v1/cards/verify", json={"card_token": bad}, headers=verifier)
                assert response.status_code == 422
                continue
            verdict = _verify(client, verifier, bad)
            assert verdict == {"valid": False, "reason": reason, "card": None}, (reason, bad[:60], verdict)
    # the offline verifier refuses the forgeries as well
    for bad in (forged_unknown_kid, forged_our_kid, edited, cut, hs256, alg_none):
        with pytest.raises(Exception):  # noqa: B017  (jwcrypto raises several exception types)
            verify_offline(jwks, bad)
    assert verify_offline(jwks, token)["sub"] == body["card_id"]


def test_verify_rejects_wrong_body_types(client, verifier):
    for body in ({}, {"card_token": 5}, {"card_token": None}, [], {"card_token": "x", "extra": 1}):
        response = client.post("/api/v1/cards/verify", json=body, headers=verifier)
        assert response.status_code == 422, body
        assert response.get_json()["code"] == 422


def test_expired_card(client, app, verifier, issue):
    body = issue()
    from backend.cards.models import Card
    from backend.cards.service import sign_card_token
    from backend.extensions import db
    from backend.models_base import utcnow

    with app.app_context():
        card = db.session.get(Card, body["card_id"])
        card.issued_at = utcnow() - timedelta(days=30)
        card.expires_at = utcnow() - timedelta(minutes=1)
        card.token = sign_card_token(card)
        db.session.commit()
        token = card.token
    verdict = _verify(client, verifier, token)
    assert verdict["valid"] is False and verdict["reason"] == "expired"
    assert verdict["card"]["status"] == "expired"
    # the old, unexpired token of the card: the database says expired
    assert _verify(client, verifier, body["card_token"])["reason"] == "expired"
    with pytest.raises(Exception):  # noqa: B017
        verify_offline(client.get("/.well-known/jwks.json").get_json(), token)


def test_revoked_and_closed_cards_are_refused(client, officer, verifier, issue):
    revoked, closed = issue(passport_number="R1234567"), issue(passport_number="K7654321")
    assert client.post(f"/api/v1/cards/{revoked['card_id']}/revoke", json={"reason": "passport reported stolen"},
                       headers=officer).status_code == 200
    assert client.post(f"/api/v1/cards/{closed['card_id']}/close", headers=officer).status_code == 200
    verdict = _verify(client, verifier, revoked["card_token"])
    assert (verdict["valid"], verdict["reason"], verdict["card"]["status"]) == (False, "revoked", "revoked")
    verdict = _verify(client, verifier, closed["card_token"])
    assert (verdict["valid"], verdict["reason"], verdict["card"]["status"]) == (False, "closed", "closed")
    # offline verifiers learn it from the public revocation list
    listing = client.get("/api/v1/cards/revocations")
    assert listing.status_code == 200
    revoked_jtis = {item["jti"]: item for item in listing.get_json()["revoked"]}
    for issued in (revoked, closed):
        jti = _parts(issued["card_token"])[1]["jti"]
        assert revoked_jtis[jti]["revoked_at"]
    assert listing.get_json()["generated_at"]


def test_revocation_list_is_public_data_only(client, officer, issue, app):
    """Only jti and revoked_at: no card id, and no telling a revoked card from a departed tourist."""
    revoked, closed = issue(passport_number="R1234567"), issue(passport_number="K7654321")
    client.post(f"/api/v1/cards/{revoked['card_id']}/revoke", json={"reason": "stolen"}, headers=officer)
    client.post(f"/api/v1/cards/{closed['card_id']}/close", headers=officer)
    listing = client.get("/api/v1/cards/revocations")
    items = listing.get_json()["revoked"]
    assert len(items) == 2
    assert all(set(item) == {"jti", "revoked_at"} for item in items)
    text = listing.get_data(as_text=True)
    for issued in (revoked, closed):
        assert issued["card_id"] not in text
    assert "closed" not in text and "stolen" not in text
    documented = client.get("/openapi.json").get_json()["components"]["schemas"]["Revocation"]["properties"]
    assert set(documented) == {"jti", "revoked_at"}


def test_rotation_keeps_old_cards_verifying(client, app, runner, verifier, issue):
    before = issue(passport_number="A1111111")
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    after = issue(passport_number="B2222222")
    old_kid, new_kid = _parts(before["card_token"])[0]["kid"], _parts(after["card_token"])[0]["kid"]
    assert old_kid != new_kid and new_kid in result.output
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid]  # current first, retired still in use
    for issued in (before, after):
        assert _verify(client, verifier, issued["card_token"])["valid"] is True
        assert verify_offline(jwks, issued["card_token"])["sub"] == issued["card_id"]
    listing = runner.invoke(args=["keys", "list"])
    assert "current" in listing.output and "retired, published" in listing.output
    assert "PRIVATE" not in listing.output

    # once every card of the retired key has expired, the key leaves the JWKS
    from backend.cards.models import Card
    from backend.extensions import db
    from backend.models_base import utcnow

    with app.app_context():
        db.session.get(Card, before["card_id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]] == [new_kid]


def test_rotation_in_another_process_is_noticed(app, client, verifier, issue, tmp_path):
    first = issue(passport_number="A1111111")
    from backend import create_app
    from backend.cards import keys

    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "CARD_KEYS_DIR": app.config["CARD_KEYS_DIR"]})
    with other.app_context():
        new_kid = keys.store().rotate().kid
    second = issue(passport_number="B2222222")
    assert _parts(second["card_token"])[0]["kid"] == new_kid
    assert _verify(client, verifier, first["card_token"])["valid"] is True
    assert _verify(client, verifier, second["card_token"])["valid"] is True
    with other.app_context():
        from backend.extensions import db

        db.session.remove()
        db.engine.dispose()


def test_keys_are_kept_safely(app, issue):
    import os
    import stat

    issue()
    from backend.cards import keys

    folder = app.config["CARD_KEYS_DIR"]
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    pems = [name for name in os.listdir(folder) if name.endswith(".pem")]
    assert pems
    for name in pems:
        path = os.path.join(folder, name)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with open(path, "rb") as fh:
            pem = fh.read()
        assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")  # encrypted at rest
        with pytest.raises(TypeError):
            serialization.load_pem_private_key(pem, password=None)
    # a process with another secret cannot use (or silently replace) the keys
    store = keys.KeyStore(keys.store(app).directory, b"some other passphrase")
    with pytest.raises(keys.KeyStoreError):
        store.current()


def test_jwks_is_public_and_cacheable(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    (key,) = response.get_json()["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256" and key["use"] == "sig"
    assert set(key) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
