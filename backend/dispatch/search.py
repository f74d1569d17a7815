"""Finding incidents: the 191 center's filters, ``q`` over the holder's identity, keyset paging.

The list is newest first and paged by an opaque cursor that names the last row shown, as the
pair ``(created_at, id)``; the next page is everything strictly older than that pair. Rows
inserted meanwhile never shift a page (no offset), so paging through a busy shift shows every
incident once: no duplicates, no gaps.

``q`` matches, in one query:

- the holder's name, and the passport's Latin-script name, case-insensitively in any script
  (substring). SQLite's ``lower()`` only folds ASCII, so
  :func:`backend.database.lower` uses the ``pts_lower`` function every SQLite connection gets
  (Python's ``str.lower``); PostgreSQL's ``lower()`` folds every script under the database's UTF-8
  ctype. Both sides lower-case the same way, so ``ИВАН`` finds
  ``Иван`` and ``müller`` finds ``MÜLLER`` on both;
- the card id as printed or typed (:func:`backend.card_ids.canonical`);
- the passport number (case and spaces ignored);
- the phone number, with or without spaces, dashes, brackets or ``+``; a Thai number typed
  nationally (``081 234 5678``) also finds one stored internationally (``+66 81 234 5678``) and
  the other way round;
- for a card-less incident from a 191 call, the caller's name (as the holder's) and phone;
- for a boat's incidents (``trip_id``), the vessel's name or registration; for a card-less
  ``boat_overdue``, any passenger on the trip's manifest as a holder above (the marine domain's
  subqueries, read through :mod:`backend.dispatch.sources`).

Why no search column or trigram index: the name match runs inside the keyset walk of the
``(created_at, id)`` index, joined to the holder by primary keys, and stops at ``limit + 1``
matches; with ``since``/``until`` (the console always sends a window for history) the walk is
bounded by the window, not by all history. A rare name over a long window still reads the
window's incidents once, which at Phuket's scale (hundreds of incidents a day) is a few
thousand rows. A trigram index on PostgreSQL is the next step if that ever shows.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from backend.card_ids import canonical
from backend.cards.models import Card, Tourist
from backend.database import lower
from backend.dispatch import sources
from backend.dispatch.models import Incident, IncidentStatus, Unit
from backend.extensions import db
from geo.models import Zone

OPEN = (IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED, IncidentStatus.DISPATCHED)
CLOSED = (IncidentStatus.RESOLVED, IncidentStatus.CANCELLED)
STATUS_GROUPS: dict[str, tuple[IncidentStatus, ...]] = {
    "open": OPEN,
    "closed": CLOSED,
    "any": OPEN + CLOSED,
    **{s.value: (s,) for s in IncidentStatus},
}

_PHONE_SEPARATORS = (" ", "-", "+", "(", ")", ".", "/", "\u00a0")
_PHONE_TYPED = re.compile(r"^\+?[\d\s\-().\u00a0/]+$")
MIN_PHONE_DIGITS = 6


class BadCursor(ValueError):
    """The cursor was not made by this service (or was altered)."""


@dataclass(frozen=True)
class Cursor:
    """The last row of a page: the next page starts strictly after it (older)."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        """The opaque form handed to clients."""
        raw = json.dumps([self.created_at.astimezone(UTC).isoformat(), self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Read a cursor; raises :class:`BadCursor` for anything this service did not make."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            at, id_ = json.loads(raw)
            created_at = datetime.fromisoformat(at)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise BadCursor("not a cursor of this list") from exc
        if created_at.tzinfo is None or isinstance(id_, bool) or not isinstance(id_, int) or not 0 < id_ < 2**31:
            raise BadCursor("not a cursor of this list")
        return cls(created_at=created_at, id=id_)


@dataclass(frozen=True)
class IncidentFilters:
    """What the dispatcher asked for (every field optional)."""

    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    card_id: str | None = None
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class IncidentPage:
    """One page of the list and where the next one starts (None on the last page)."""

    items: list[Incident]
    next_cursor: str | None




def _digits(column: Any) -> ColumnElement[Any]:
    expr = column
    for sep in _PHONE_SEPARATORS:
        expr = func.replace(expr, sep, "")
    return expr


def phone_forms(typed: str) -> set[str]:
    """The digit strings a typed phone number may be stored as (Thai national ⇄ +66)."""
    digits = re.sub(r"\D", "", typed)
    if len(digits) < MIN_PHONE_DIGITS:
        return set()
    forms = {digits}
    if digits.startswith("66") and not typed.strip().startswith("0"):
        forms.add("0" + digits[2:])
    if digits.startswith("0") and not digits.startswith("00"):
        forms.add("66" + digits[1:])
    if digits.startswith("00"):  # 00 international prefix
        forms.add(digits[2:])
    return forms


def _matches_q(q: str) -> ColumnElement[bool]:
    """The holder's names, card id, passport number or phone, or the caller's name or phone, match ``q``."""
    needle = q.strip()
    folded = needle.lower()
    compact = re.sub(r"\s+", "", needle).upper()
    holder = [
        lower(Tourist.full_name).contains(folded, autoescape=True),
        lower(Tourist.latin_name).contains(folded, autoescape=True),
        func.upper(func.replace(Tourist.passport_number, " ", "")) == compact,
    ]
    # a card-less 191 call: the caller's name or phone as the dispatcher noted it
    conditions: list[ColumnElement[bool]] = [lower(Incident.caller_name).contains(folded, autoescape=True)]
    if _PHONE_TYPED.match(needle):
        forms = phone_forms(needle)
        if forms:
            holder.append(_digits(Tourist.phone).in_(sorted(forms)))
            conditions.append(_digits(Incident.caller_phone).in_(sorted(forms)))
    holders = (select(Card.id).join(Tourist, Tourist.id == Card.tourist_id)
               .where(Card.id == Incident.card_id, or_(*holder)))
    conditions.append(holders.exists())
    # a boat's incidents: the vessel's name or registration; a card-less boat_overdue also by who is aboard
    trips = sources.current().trips
    conditions.append(Incident.trip_id.in_(trips.trips_named(folded)))
    conditions.append(and_(Incident.card_id.is_(None), Incident.trip_id.in_(trips.trips_carrying(holder))))
    card_id = canonical(needle)
    if 0 < len(card_id) <= 32:
        conditions.append(Incident.card_id == card_id)
    return or_(*conditions)


def filtered(filters: IncidentFilters) -> Select[tuple[Incident]]:
    """The incidents matching ``filters`` (unordered, unpaged)."""
    query = select(Incident)
    if filters.statuses:
        query = query.where(Incident.status.in_(filters.statuses))
    if filters.kinds:
        query = query.where(Incident.kind.in_(filters.kinds))
    if filters.severities:
        query = query.where(Incident.severity.in_(filters.severities))
    if filters.card_id:
        query = query.where(Incident.card_id == filters.card_id)
    if filters.since is not None:
        query = query.where(Incident.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Incident.created_at < filters.until)
    if filters.q and filters.q.strip():
        query = query.where(_matches_q(filters.q))
    return query


def with_relations(query: Select[tuple[Incident]]) -> Select[tuple[Incident]]:
    """Load what the representation shows (holder, zone, unit) in bulk: a fixed number of queries per page."""
    return query.options(
        selectinload(Incident.holder_card).joinedload(Card.tourist),
        selectinload(Incident.zone).load_only(Zone.id, Zone.name),
        selectinload(Incident.listed_unit).load_only(Unit.id, Unit.name, Unit.agency),
    )


def search_incidents(filters: IncidentFilters, *, limit: int = 50, cursor: Cursor | None = None) -> IncidentPage:
    """One page of matching incidents, newest first, and the cursor of the next page."""
    query = filtered(filters)
    if cursor is not None:
        query = query.where(or_(Incident.created_at < cursor.created_at,
                                and_(Incident.created_at == cursor.created_at, Incident.id < cursor.id)))
    rows = list(db.session.scalars(with_relations(
        query.order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit + 1))))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = Cursor(created_at=rows[-1].created_at, id=rows[-1].id).encode() if more and rows else None
    return IncidentPage(items=rows, next_cursor=next_cursor)


def share_trip_briefs(incidents: list[Incident]) -> None:
    """Read each boat trip of a page once: its marine incidents (often many for one boat) share the brief.

    A returned boat with 30 passengers unaccounted is 30 incidents of one trip: one brief, not 30.
    """
    trip_ids = {i.trip_id for i in incidents if getattr(i, "trip_id", None) is not None}
    if not trip_ids:
        return
    trips = sources.current().trips
    briefs = {trip_id: trips.trip_brief(trip_id) for trip_id in sorted(trip_ids)}
    for incident in incidents:
        if getattr(incident, "trip_id", None) is not None:
            incident.__dict__["_pts_trip_briefs"] = briefs
