"""Finding a card at the checkpoint: by passport number, name (any script, or Latin) or card id as typed.

``q`` matches a card when any of these holds:

- its card id is ``q`` as printed or typed (:func:`backend.card_ids.canonical`);
- its holder's passport number is ``q`` (case, spaces and hyphens ignored);
- every word of ``q`` is found in the holder's name, case-insensitively in any script
  (``иван`` finds "Иван Иванов"), or in the passport's Latin-script name after the same ICAO
  transliteration (``Müller`` and ``mueller`` find ``MUELLER``; ``ivan ivanov`` finds ``IVANOV, IVAN``).

Names are lower-cased in every script on both databases by :func:`backend.database.lower`.

Results are newest first (issued_at, then card id), paged by an opaque cursor naming the last
card shown, so a card issued meanwhile never shifts a page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, or_, select

from backend.card_ids import canonical
from backend.cards import latin_names
from backend.cards.models import Card, Tourist
from backend.database import lower
from backend.extensions import db

MAX_WORDS = 8


class BadCursor(ValueError):
    """The cursor was not made by this list (or was altered)."""


@dataclass(frozen=True)
class Cursor:
    """The last card of a page: the next page starts strictly after it (older)."""

    issued_at: datetime
    card_id: str

    def encode(self) -> str:
        """The opaque form handed to clients."""
        raw = json.dumps([self.issued_at.astimezone(UTC).isoformat(), self.card_id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Read a cursor; raises :class:`BadCursor` for anything this list did not make."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            at, card_id = json.loads(raw)
            issued_at = datetime.fromisoformat(at)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise BadCursor("not a cursor of this list") from exc
        if issued_at.tzinfo is None or not isinstance(card_id, str) or not 0 < len(card_id) <= 32:
            raise BadCursor("not a cursor of this list")
        return cls(issued_at=issued_at, card_id=card_id)


@dataclass
class CardPage:
    """One page of matching cards and where the next one starts (None on the last page)."""

    items: list[Card]
    next_cursor: str | None




def _word_matches(word: str) -> ColumnElement[bool]:
    """One word of ``q`` is in the holder's name (any script) or in the Latin-script name."""
    conditions = [lower(Tourist.full_name).contains(word.lower(), autoescape=True)]
    latin = latin_names.transliterate(word).replace(",", "").strip()
    if latin:
        conditions.append(Tourist.latin_name.contains(latin, autoescape=True))
    return or_(*conditions)


def matches(q: str) -> ColumnElement[bool]:
    """The card or its holder matches ``q`` (card id as typed, passport number, or every word in a name)."""
    needle = q.strip()
    conditions: list[ColumnElement[bool]] = []
    card_id = canonical(needle)
    if 0 < len(card_id) <= 32:
        conditions.append(Card.id == card_id)
    passport = re.sub(r"[\s\-]", "", needle).upper()
    if passport:
        conditions.append(Tourist.passport_number == passport)
    words = [w for w in re.split(r"[\s,<]+", needle) if w][:MAX_WORDS]
    if words:
        conditions.append(and_(*[_word_matches(w) for w in words]))
    return or_(*conditions)


def search_cards(*, q: str, limit: int = 20, cursor: Cursor | None = None) -> CardPage:
    """One page of the cards matching ``q``, newest first, with the cursor of the next page."""
    query = select(Card).join(Tourist, Tourist.id == Card.tourist_id).where(matches(q))
    if cursor is not None:
        query = query.where(or_(Card.issued_at < cursor.issued_at,
                                and_(Card.issued_at == cursor.issued_at, Card.id < cursor.card_id)))
    rows = list(db.session.scalars(query.order_by(Card.issued_at.desc(), Card.id.desc()).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = Cursor(issued_at=rows[-1].issued_at, card_id=rows[-1].id).encode() if more and rows else None
    return CardPage(items=rows, next_cursor=next_cursor)
