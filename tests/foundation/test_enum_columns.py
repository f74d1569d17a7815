"""Enum columns (``models_base.enum_column``): the same strings stored as before, members read back."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import StatementError


def test_a_row_written_as_plain_strings_reads_back_as_members(app, factories):
    from backend.cards.models import Card, CardKind, CardStatus, Checkpoint
    from backend.extensions import db

    card_id = factories.card()
    with app.app_context():
        # what an old row (or another program) wrote: the bare strings
        db.session.execute(text("UPDATE cards SET status = 'revoked', kind = 'resident' WHERE id = :id"),
                           {"id": card_id})
        db.session.commit()
        card = db.session.get(Card, card_id)
        assert card.status is CardStatus.REVOKED and card.kind is CardKind.RESIDENT
        assert card.checkpoint is Checkpoint.HKT


def test_members_are_stored_as_their_values(app, factories):
    from backend.cards.models import Card, CardStatus
    from backend.extensions import db

    card_id = factories.card()
    with app.app_context():
        db.session.execute(update(Card).where(Card.id == card_id).values(status=CardStatus.CLOSED))
        db.session.commit()
        stored = db.session.execute(text("SELECT status FROM cards WHERE id = :id"), {"id": card_id}).scalar_one()
        assert type(stored) is str and stored == "closed"
        assert db.session.scalar(select(Card.id).where(Card.status == "closed")) == card_id


def test_a_string_no_member_has_is_refused_before_the_database(app, factories):
    from backend.cards.models import Card
    from backend.extensions import db

    factories.card()
    with app.app_context(), pytest.raises(StatementError) as caught:
        db.session.scalar(select(Card.id).where(Card.status == "gone"))
    assert isinstance(caught.value.orig, LookupError)
