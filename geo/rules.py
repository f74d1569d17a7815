"""Geofence rules: what a card's move means (left the area, entered or crossed danger, came back).

:func:`evaluate` takes the card's previous latest fix and its new fixes (newer than that one,
oldest first) and answers with **one spatial query** for the whole batch (:func:`evaluate_moves`
does the same for the moves of many cards at once, for group commits): every fix is tested
against the service areas, the island and the danger zones, and every segment between
consecutive fixes against the danger zones. Sparse fixes need the segment: a speedboat
between two half-hourly fixes can cross a rip-current zone without a fix inside it.

A segment counts only when it is plausibly a straight move over water: at least one of its
ends is not on Phuket's land (a drive from Kata to Karon along the coast road must not look
like a swim across Kata bay), and the fixes are at most :data:`MAX_SEGMENT_GAP` apart (after
a long silence the straight line says nothing about the way taken).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import TextClause, text

from backend.extensions import db
from backend.vocab import Severity
from geo.models import ZoneKind

MAX_SEGMENT_GAP = timedelta(hours=2)
THAILAND = timezone(timedelta(hours=7))  # season months are local months (no DST in Thailand)
_SEVERITY_RANK = {"critical": 3, "high": 2, "medium": 1, "low": 0}


@dataclass(frozen=True)
class Fix:
    """A position at a time."""

    lat: float
    lon: float
    recorded_at: datetime
    client_id: str | None = None


@dataclass(frozen=True)
class PreviousState:
    """What the rules concluded for the card's previous latest fix."""

    fix: Fix
    in_service_area: bool
    at_sea: bool
    danger_zone_id: int | None


@dataclass(frozen=True)
class ZoneRef:
    """A zone the rules reacted to."""

    id: int
    name: str
    severity: str
    season_months: tuple[int, ...] | None


@dataclass(frozen=True)
class RuleEvent:
    """Something the move did: ``left_area``, ``returned_area``, ``entered_danger``,
    ``crossed_danger`` or ``left_danger``, at ``fix`` (``previous`` is the fix before it)."""

    type: str
    fix: Fix
    previous: Fix | None = None
    zone: ZoneRef | None = None

    @property
    def severity(self) -> Severity:
        """Danger: high in the zone's season (local month), else medium; area events: medium.

        A zone raised to ``critical`` (a marine warning, :mod:`backend.marine.conditions`) is critical
        in any season.
        """
        if self.zone is None:
            return Severity.MEDIUM
        if self.zone.severity == Severity.CRITICAL:
            return Severity.CRITICAL
        if self.zone.season_months:
            month = self.fix.recorded_at.astimezone(THAILAND).month
            return Severity.HIGH if month in self.zone.season_months else Severity.MEDIUM
        return Severity(self.zone.severity) if self.zone.severity in _SEVERITY_RANK else Severity.MEDIUM


@dataclass(frozen=True)
class Evaluation:
    """The state of the newest fix and the events of the move, in time order."""

    in_service_area: bool
    at_sea: bool
    on_land: bool
    danger_zone_id: int | None
    events: list[RuleEvent] = field(default_factory=list)


def _wkt_point(fix: Fix) -> str:
    return f"POINT({fix.lon!r} {fix.lat!r})"


def _wkt_segment(a: Fix, b: Fix) -> str:
    return f"LINESTRING({a.lon!r} {a.lat!r}, {b.lon!r} {b.lat!r})"


def _segment_allowed(a: Fix, b: Fix) -> bool:
    return (b.recorded_at - a.recorded_at) <= MAX_SEGMENT_GAP and (a.lat, a.lon) != (b.lat, b.lon)


def _query(probes: list[tuple[int, str, str]]) -> tuple[list[tuple[int, str, int, str]], dict[int, ZoneRef], bool]:
    """Run the batch's one spatial query: (probe index, probe kind, zone id, zone kind) hits."""
    dialect = db.engine.dialect.name
    if dialect == "postgresql":  # one constant (prepared) statement whatever the number of probes
        source = ("SELECT * FROM unnest(CAST(:idx AS integer[]), CAST(:kind AS text[]), CAST(:wkt AS text[]))"
                  " AS u(idx, kind, wkt)")
        params: dict[str, object] = {"idx": [p[0] for p in probes], "kind": [p[1] for p in probes],
                                     "wkt": [p[2] for p in probes]}
        truth = ""
    else:
        rows = []
        params = {}
        for n, (idx, kind, wkt) in enumerate(probes):
            rows.append(f"(:i{n}, :k{n}, :w{n})")
            params.update({f"i{n}": idx, f"k{n}": kind, f"w{n}": wkt})
        source = f"VALUES {', '.join(rows)}"
        truth = " = 1"  # SpatiaLite answers 1, 0 or -1 (error)
    cast_idx = "CAST(p.idx AS INTEGER)"
    sql = (
        f"WITH probes(idx, kind, wkt) AS ({source}) "
        f"SELECT {cast_idx}, p.kind, z.id, z.kind, z.name, z.severity, z.season_months "
        "FROM probes p JOIN zones z ON z.kind IN ('service_area', 'island', 'danger') "
        f"AND ST_Intersects(z.geom, ST_GeomFromText(p.wkt, 4326)){truth} "
        "AND (p.kind = 'point' OR z.kind = 'danger') "
        "UNION ALL SELECT -1, 'meta', z.id, z.kind, z.name, z.severity, NULL FROM zones z "
        "WHERE z.kind = 'service_area'"
    )
    hits: list[tuple[int, str, int, str]] = []
    zones: dict[int, ZoneRef] = {}
    any_service_area = False
    for idx, probe_kind, zone_id, zone_kind, name, severity, season in db.session.execute(_statement(sql), params):
        if probe_kind == "meta":
            any_service_area = True
            continue
        hits.append((int(idx), probe_kind, zone_id, zone_kind))
        if zone_kind == ZoneKind.DANGER and zone_id not in zones:
            zones[zone_id] = ZoneRef(zone_id, name, severity, _months(season))
    return hits, zones, any_service_area


@functools.lru_cache(maxsize=64)
def _statement(sql: str) -> TextClause:
    """The parsed statement for ``sql`` (PostgreSQL's is one constant text; SQLite's one per probe count)."""
    return text(sql)


def _months(value: object) -> tuple[int, ...] | None:
    import json

    if value is None:
        return None
    months = json.loads(value) if isinstance(value, str) else value
    return tuple(int(m) for m in months) if months else None


def _pick(zone_ids: set[int], zones: dict[int, ZoneRef]) -> int | None:
    """The most severe zone (then the lowest id) of a set, for a stable answer."""
    if not zone_ids:
        return None
    return min(zone_ids, key=lambda z: (-_SEVERITY_RANK.get(zones[z].severity, 0), z))


def evaluate(*, previous: PreviousState | None, fixes: Sequence[Fix]) -> Evaluation:
    """Evaluate the card's new fixes (newer than ``previous``, oldest first) in one spatial query."""
    return evaluate_moves([Move(previous, fixes)])[0]


@dataclass(frozen=True)
class Move:
    """One card's move: its previous state (None for its first fix) and its new fixes, oldest first."""

    previous: PreviousState | None
    fixes: Sequence[Fix]


def evaluate_moves(moves: Sequence[Move]) -> list[Evaluation]:
    """Evaluate the moves of several cards (one per card) in **one** spatial query; one answer per move.

    This is what lets a group commit of many cards' pings cost one geofence query, not one per card.
    """
    chains: list[list[Fix]] = []
    probes: list[tuple[int, str, str]] = []
    base = 0  # every fix of every chain gets its own probe index
    for move in moves:
        if not move.fixes:
            raise ValueError("evaluate needs at least one new fix")
        chain = ([move.previous.fix] if move.previous else []) + list(move.fixes)
        offset = 1 if move.previous else 0
        for i, fix in enumerate(chain):
            if i >= offset:
                probes.append((base + i, "point", _wkt_point(fix)))
            if i >= 1 and _segment_allowed(chain[i - 1], fix):
                probes.append((base + i, "segment", _wkt_segment(chain[i - 1], fix)))
        chains.append(chain)
        base += len(chain)
    hits, zones, any_service_area = _query(probes)

    points: dict[int, dict[str, set[int]]] = {}
    segments: dict[int, set[int]] = {}
    for idx, probe_kind, zone_id, zone_kind in hits:
        if probe_kind == "point":
            points.setdefault(idx, {}).setdefault(zone_kind, set()).add(zone_id)
        else:
            segments.setdefault(idx, set()).add(zone_id)

    evaluations = []
    base = 0
    for move, chain in zip(moves, chains, strict=True):
        evaluations.append(_conclude(move.previous, chain, base, points, segments, zones, any_service_area))
        base += len(chain)
    return evaluations


def _conclude(previous: PreviousState | None, chain: list[Fix], base: int, points: dict[int, dict[str, set[int]]],
              segments: dict[int, set[int]], zones: dict[int, ZoneRef], any_service_area: bool) -> Evaluation:
    """The events of one card's move, from the hits of its probes (indices from ``base``)."""
    offset = 1 if previous else 0
    in_area = previous.in_service_area if previous else True
    on_land = (previous.in_service_area and not previous.at_sea) if previous else True
    danger = previous.danger_zone_id if previous else None
    events: list[RuleEvent] = []
    for i in range(offset, len(chain)):
        fix, before = chain[i], (chain[i - 1] if i else None)
        found = points.get(base + i, {})
        now_in_area = bool(found.get(ZoneKind.SERVICE_AREA)) or not any_service_area
        now_on_land = bool(found.get(ZoneKind.ISLAND))
        now_danger = _pick(found.get(ZoneKind.DANGER, set()), zones)
        if in_area and not now_in_area:
            events.append(RuleEvent("left_area", fix, before))
        elif not in_area and now_in_area:
            events.append(RuleEvent("returned_area", fix, before))
        if danger is not None and danger != now_danger:
            left = zones.get(danger) or ZoneRef(danger, "", Severity.LOW, None)
            events.append(RuleEvent("left_danger", fix, before, left))
        if now_danger is not None and now_danger != danger:
            events.append(RuleEvent("entered_danger", fix, before, zones[now_danger]))
        elif now_danger is None and (not on_land or not now_on_land):
            crossed = _pick(segments.get(base + i, set()) - {danger}, zones)
            if crossed is not None:
                events.append(RuleEvent("crossed_danger", fix, before, zones[crossed]))
        in_area, on_land, danger = now_in_area, now_on_land, now_danger
    return Evaluation(in_service_area=in_area, at_sea=in_area and not on_land, on_land=on_land,
                      danger_zone_id=danger, events=events)
