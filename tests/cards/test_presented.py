"""A card presented to staff (backend.cards.presented): one check for the hotel desk and the pier."""

from __future__ import annotations

import pytest

from backend.auth.models import User
from backend.cards.models import Card
from backend.cards.presented import CardRefused, CardThrottled, PassportThrottle, card_by_passport, card_by_token
from backend.extensions import db
from backend.hotels.service import CHECKIN_LIMITS
from backend.marine.service import BOARD_LIMITS


@pytest.fixture
def app_config() -> dict:
    """No slow-down between guesses (the limits are what these tests count)."""
    return {"THROTTLE_SLOW_MAX_S": 0, "CHECKIN_MAX_FAILURES": 3, "MARINE_BOARD_MAX_FAILURES": 3}


def test_each_desk_counts_wrong_pairs_under_its_own_scope(app, factories, auth):
    assert (CHECKIN_LIMITS.scope, BOARD_LIMITS.scope) == ("checkin", "marine_board")
    card = factories.issued_card(passport_number="Q1234567")
    staff_id = auth.user("admin").id
    with app.app_context():
        staff = db.session.get(User, staff_id)
        for guess in range(3):
            with pytest.raises(CardRefused) as refused:
                card_by_passport(card["card_id"], f"GUESS{guess}", by=staff, limits=CHECKIN_LIMITS)
            assert (refused.value.reason, refused.value.field, refused.value.card) == \
                ("passport_mismatch", "passport_number", None)
        db.session.commit()
        with pytest.raises(CardThrottled) as throttled:
            card_by_passport(card["card_id"], "Q1234567", by=staff, limits=CHECKIN_LIMITS)
        assert throttled.value.retry_after > 0
        assert str(throttled.value).startswith("too many wrong card id and passport number pairs; try again in ")
        # the same staff account and card at the pier: the hotel's counters are not the pier's
        found = card_by_passport(card["card_id"], "q123-4567", by=staff, limits=BOARD_LIMITS)
        assert found.id == card["card_id"]


def test_a_token_with_another_cards_id_and_an_inactive_card_by_passport_are_refused(app, factories):
    first = factories.issued_card(passport_number="R1234567")
    second = factories.issued_card(passport_number="R7654321")
    with app.app_context():
        assert card_by_token(f"  {first['card_token']} ").id == first["card_id"]
        with pytest.raises(CardRefused) as refused:
            card_by_token(first["card_token"], card_id=second["card_id"])
        assert (refused.value.reason, refused.value.field, refused.value.card) == ("card_mismatch", "card_token", None)
        assert refused.value.message == "The card id typed does not match the scanned card."
        with pytest.raises(CardRefused) as refused:
            card_by_token("not-a-card")
        assert refused.value.reason == "malformed" and refused.value.card is None
        db.session.get(Card, second["card_id"]).status = "revoked"
        db.session.flush()
        with pytest.raises(CardRefused) as refused:
            card_by_passport(second["card_id"], "R7654321", by=None,
                             limits=PassportThrottle(scope="test_desk", max_failures_key="CHECKIN_MAX_FAILURES",
                                                     message="{retry_after}"))
        assert (refused.value.reason, refused.value.field) == ("revoked", None)
        assert refused.value.card is not None and refused.value.card.id == second["card_id"]
