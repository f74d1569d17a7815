"""The 191 center's REST API (incidents, workflow, the map's positions) and the console page."""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import current_app, render_template
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from backend.audit.service import record
from backend.auth.decorators import current_staff, staff_required
from backend.auth.models import Role
from backend.cards.models import Card
from backend.dispatch import mutes, positions, search, service, stats, units
from backend.dispatch.models import IncidentKind, IncidentStatus
from backend.dispatch.schemas import (
    CardTrackQuerySchema,
    CardTrackSchema,
    IncidentAcknowledgeSchema,
    IncidentCreateSchema,
    IncidentDetailSchema,
    IncidentDispatchSchema,
    IncidentListSchema,
    IncidentNearbyFacilitiesSchema,
    IncidentNoteSchema,
    IncidentQuerySchema,
    IncidentResolveSchema,
    IncidentSchema,
    MapPositionCollectionSchema,
    MapPositionsQuerySchema,
    StatsQuerySchema,
    StatsSchema,
    UnitCreateSchema,
    UnitListSchema,
    UnitQuerySchema,
    UnitSchema,
    UnitUpdateSchema,
    ZoneMuteCreateSchema,
    ZoneMuteListSchema,
    ZoneMuteSchema,
)
from backend.extensions import db
from backend.models_base import utcnow
from backend.web.transactions import unit_of_work

blp = Blueprint("dispatch", __name__, url_prefix="/api/v1/dispatch",
                description="The 191 center: incidents, their workflow, tourists on the map")
console = FlaskBlueprint("console", __name__, template_folder="templates", static_folder="static",
                         static_url_path="/static/dispatch")

DISPATCH = Role.DISPATCHER


def _actor() -> str:
    return current_staff().username


def _incident_or_404(incident_id: int):  # noqa: ANN202
    incident = service.get_incident(incident_id=incident_id)
    if incident is None:
        abort(404, message=f"no incident {incident_id}")
    return incident


@blp.route("/incidents")
class Incidents(MethodView):
    """The incident list, and incidents opened by a dispatcher."""

    @staff_required(DISPATCH)
    @blp.arguments(IncidentQuerySchema, location="query")
    @blp.response(200, IncidentListSchema)
    @unit_of_work(expire_on_commit=False)  # the reply is serialized from the rows loaded: no reload of each
    def get(self, args: dict):
        """Find incidents (status, kind, severity, q, time window), newest first, a page at a time."""
        seq = service.last_seq()  # read first: the list reflects at least every event up to it
        statuses = tuple(dict.fromkeys(s for name in args.get("status", ()) for s in search.STATUS_GROUPS[name]))
        filters = search.IncidentFilters(statuses=statuses, kinds=args.get("kind", ()),
                                         severities=args.get("severity", ()), card_id=args.get("card_id"),
                                         q=args.get("q"), since=args.get("since"), until=args.get("until"))
        page = search.search_incidents(filters, limit=args["limit"], cursor=args.get("cursor"))
        mutes.mark_muted(page.items)
        search.share_trip_briefs(page.items)
        shown = {k: (v.isoformat() if hasattr(v, "isoformat") else list(v) if isinstance(v, tuple) else v)
                 for k, v in args.items() if k not in ("limit", "cursor")}
        record("incident.list", subject_type="incident",
               detail={"filters": shown, "count": len(page.items), "page": "next" if "cursor" in args else "first"})
        return {"items": page.items, "next_cursor": page.next_cursor, "last_seq": seq}

    @staff_required(DISPATCH)
    @blp.arguments(IncidentCreateSchema)
    @blp.response(201, IncidentSchema)
    @blp.alt_response(200, schema=IncidentSchema, description="The card already had an open incident of that kind")
    @unit_of_work
    def post(self, body: dict):
        """Open an incident from a 191 phone call: for a card holder (joins an open one of the same kind), or
        card-less with the caller and a position (always a new incident)."""
        caller = body.get("caller") or {}
        incident, created = service.open_call_incident(
            card_id=body.get("card_id"), kind=IncidentKind(body["kind"]),
            severity=body.get("severity"),
            lat=body.get("lat"), lon=body.get("lon"), accuracy_m=body.get("accuracy_m"),
            category=body.get("category"), note=body.get("note"), actor=_actor(),
            caller_name=caller.get("name"), caller_phone=caller.get("phone"))
        record("incident.create" if created else "incident.update", subject_type="incident",
               subject_id=incident.id, card_id=incident.card_id, detail={"kind": incident.kind, "source": "191 call"})
        return incident, 201 if created else 200


@blp.route("/incidents/<int:incident_id>")
class IncidentDetail(MethodView):
    """One incident."""

    @staff_required(DISPATCH)
    @blp.response(200, IncidentDetailSchema)
    @unit_of_work(expire_on_commit=False)  # the detail is serialized from the rows loaded
    def get(self, incident_id: int):
        """An incident with its timeline, the holder's details, their stay and last position."""
        incident = _incident_or_404(incident_id)
        detail = service.incident_detail(incident)
        mutes.mark_muted([incident])
        record("incident.read", subject_type="incident", subject_id=incident.id, card_id=incident.card_id)
        return detail


@unit_of_work
def _change(incident_id: int, to: IncidentStatus, **kwargs: str | int | None):  # noqa: ANN202
    """Apply a workflow step: 404 unknown, 409 not allowed from the current status (dispatch.init_app); audited."""
    incident = service.change_status(incident_id=incident_id, to=to, actor=_actor(), **kwargs)
    record(f"incident.{to}", subject_type="incident", subject_id=incident.id, card_id=incident.card_id,
           detail={k: v for k, v in kwargs.items() if v} or None)
    return incident


@blp.route("/incidents/<int:incident_id>/acknowledge")
class Acknowledge(MethodView):
    """A dispatcher has seen the incident and is on it."""

    @staff_required(DISPATCH)
    @blp.arguments(IncidentAcknowledgeSchema, required=False)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(409, description="Not possible from the incident's status")
    def post(self, body: dict, incident_id: int):
        """Acknowledge an incident."""
        return _change(incident_id, IncidentStatus.ACKNOWLEDGED, note=(body or {}).get("note"))


@blp.route("/incidents/<int:incident_id>/dispatch")
class Dispatch(MethodView):
    """Help is on the way."""

    @staff_required(DISPATCH)
    @blp.arguments(IncidentDispatchSchema)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(409, description="Not possible from the incident's status")
    def post(self, body: dict, incident_id: int):
        """Dispatch a listed unit (``unit_id``) or one named in free text (``unit``) to an incident."""
        return _change(incident_id, IncidentStatus.DISPATCHED, unit=body.get("unit"), unit_id=body.get("unit_id"),
                       note=body.get("note"))


@blp.route("/incidents/<int:incident_id>/resolve")
class Resolve(MethodView):
    """The incident is over."""

    @staff_required(DISPATCH)
    @blp.arguments(IncidentResolveSchema, required=False)
    @blp.response(200, IncidentSchema)
    @blp.alt_response(409, description="Already resolved or cancelled")
    def post(self, body: dict, incident_id: int):
        """Resolve an incident, with how it ended."""
        body = body or {}
        return _change(incident_id, IncidentStatus.RESOLVED, resolution=body.get("resolution"), note=body.get("note"))


@blp.route("/incidents/<int:incident_id>/notes")
class Notes(MethodView):
    """Dispatchers' notes on the timeline."""

    @staff_required(DISPATCH)
    @blp.arguments(IncidentNoteSchema)
    @blp.response(200, IncidentSchema)
    @unit_of_work
    def post(self, body: dict, incident_id: int):
        """Add a note to an incident's timeline."""
        incident = service.note_incident(incident_id=incident_id, note=body["note"], actor=_actor())
        record("incident.note", subject_type="incident", subject_id=incident.id, card_id=incident.card_id)
        return incident


@blp.route("/incidents/<int:incident_id>/nearby")
class Nearby(MethodView):
    """Help near an incident."""

    @staff_required(DISPATCH)
    @blp.response(200, IncidentNearbyFacilitiesSchema)
    def get(self, incident_id: int):
        """The nearest hospitals, police, tourist police and marine police to the incident's position."""
        incident = _incident_or_404(incident_id)
        if incident.lat is None or incident.lon is None:
            return {"items": []}
        return {"items": positions.nearby_help(lat=incident.lat, lon=incident.lon)}


@blp.route("/positions")
class Positions(MethodView):
    """Tourists on the map."""

    @staff_required(DISPATCH)
    @blp.arguments(MapPositionsQuerySchema, location="query")
    @blp.response(200, MapPositionCollectionSchema)
    @unit_of_work
    def get(self, args: dict):
        """The latest position of each tracked card inside the viewport, with its status."""
        bbox = args["bbox"]
        found, truncated = positions.positions_in(bbox=bbox, limit=args["limit"])
        record("positions.read", subject_type="position",
               detail={"bbox": [bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat], "count": len(found)})
        return {"type": "FeatureCollection", "features": [p.feature() for p in found], "truncated": truncated}


@blp.route("/cards/<string:card_id>/track")
class Track(MethodView):
    """Where a tourist has been."""

    @staff_required(DISPATCH)
    @blp.arguments(CardTrackQuerySchema, location="query")
    @blp.response(200, CardTrackSchema)
    @unit_of_work
    def get(self, args: dict, card_id: str):
        """The card's pings of the last ``hours`` (default 24), oldest first."""
        if db.session.get(Card, card_id) is None:
            abort(404, message=f"no card {card_id}")
        pings = positions.card_track(card_id=card_id, hours=args["hours"])
        record("card.track.read", subject_type="card", subject_id=card_id, card_id=card_id,
               detail={"hours": args["hours"], "count": len(pings)})
        return {"type": "FeatureCollection", "card_id": card_id, "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
             "properties": {"recorded_at": p.recorded_at, "accuracy_m": p.accuracy_m, "speed_mps": p.speed_mps,
                            "battery_pct": p.battery_pct, "source": p.source}} for p in pings]}


@blp.route("/units")
class Units(MethodView):
    """The units the 191 center dispatches."""

    @staff_required(DISPATCH)
    @blp.arguments(UnitQuerySchema, location="query")
    @blp.response(200, UnitListSchema)
    def get(self, args: dict):
        """Every unit; with ``near=LAT,LON`` nearest first (with distance_km), units without a base last."""
        return {"items": units.list_units(near=args.get("near"), agency=args.get("agency"))}

    @staff_required(Role.ADMIN)
    @blp.arguments(UnitCreateSchema)
    @blp.response(201, UnitSchema)
    @blp.alt_response(409, description="A unit of that name exists")
    @unit_of_work
    def post(self, body: dict):
        """Add a unit (admin)."""
        base = body.get("base")
        unit = units.create_unit(name=body["name"], agency=body["agency"], phone=body.get("phone"),
                                 base=(base["lat"], base["lon"]) if base else None)
        record("unit.create", subject_type="unit", subject_id=unit.id,
               detail={"name": unit.name, "agency": unit.agency})
        return units.listed(unit)


@blp.route("/units/<int:unit_id>")
class UnitDetail(MethodView):
    """One unit (admin)."""

    @staff_required(Role.ADMIN)
    @blp.arguments(UnitUpdateSchema)
    @blp.response(200, UnitSchema)
    @blp.alt_response(409, description="Another unit has that name")
    @unit_of_work
    def patch(self, body: dict, unit_id: int):
        """Change a unit's name, agency, phone or base (null clears phone or base)."""
        unit = units.get_unit(unit_id=unit_id)
        if unit is None:
            abort(404, message=f"no unit {unit_id}")
        changes: dict = {}
        if "name" in body:
            changes["name"] = body["name"]
        if "agency" in body:
            changes["agency"] = body["agency"]
        if "phone" in body:
            changes["phone"] = body["phone"]
        if "base" in body:
            changes["base"] = (body["base"]["lat"], body["base"]["lon"]) if body["base"] else None
        units.update_unit(unit, **changes)
        record("unit.update", subject_type="unit", subject_id=unit.id, detail={"fields": sorted(body)})
        return units.listed(unit)

    @staff_required(Role.ADMIN)
    @blp.response(204)
    @unit_of_work
    def delete(self, unit_id: int):
        """Remove a unit; incidents it was sent to keep its name."""
        unit = units.get_unit(unit_id=unit_id)
        if unit is None:
            abort(404, message=f"no unit {unit_id}")
        record("unit.delete", subject_type="unit", subject_id=unit.id, detail={"name": unit.name})
        units.delete_unit(unit)


@blp.route("/stats")
class Stats(MethodView):
    """Measured response."""

    @staff_required(DISPATCH)
    @blp.arguments(StatsQuerySchema, location="query")
    @blp.response(200, StatsSchema)
    def get(self, args: dict):
        """Counts and time to acknowledge / dispatch / resolve (p50, p90, max) of the incidents created in the window."""
        until = args.get("until") or (args["since"] + stats.DEFAULT_WINDOW if "since" in args else utcnow())
        since = args.get("since") or until - stats.DEFAULT_WINDOW
        if until <= since:
            abort(422, message="until must be later than since", errors={"query": {"until": ["before since"]}})
        return stats.response_stats(since=since, until=until)


def _mute_payload(mute) -> dict:  # noqa: ANN001
    return {"zone_id": mute.zone_id, "zone_name": mute.zone.name, "until": mute.until, "by": mute.by,
            "reason": mute.reason, "created_at": mute.created_at}


@blp.route("/zones/<int:zone_id>/mute")
class ZoneMutes(MethodView):
    """A zone's danger-zone alerts silenced for a while (never SOS)."""

    @staff_required(DISPATCH)
    @blp.arguments(ZoneMuteCreateSchema)
    @blp.response(201, ZoneMuteSchema)
    @unit_of_work
    def post(self, body: dict, zone_id: int):
        """Mute the zone's danger alerts for 5-720 minutes (replaces a mute in force); audited."""
        mute = mutes.mute_zone(zone_id=zone_id, minutes=body["minutes"], reason=body["reason"], by=_actor())
        record("zone.mute", subject_type="zone", subject_id=zone_id,
               detail={"minutes": body["minutes"], "reason": body["reason"], "until": mute.until.isoformat()})
        return _mute_payload(mute)  # made before the commit, which would expire the mute and its zone

    @staff_required(DISPATCH)
    @blp.response(204)
    @unit_of_work
    def delete(self, zone_id: int):
        """Lift the zone's mute (204 also when none was in force); audited."""
        lifted = mutes.unmute_zone(zone_id=zone_id, by=_actor())
        if lifted is not None:
            record("zone.unmute", subject_type="zone", subject_id=zone_id,
                   detail={"until": lifted.until.isoformat(), "muted_by": lifted.by})


@blp.route("/mutes")
class Mutes(MethodView):
    """Mutes in force."""

    @staff_required(DISPATCH)
    @blp.response(200, ZoneMuteListSchema)
    def get(self):
        """Every zone mute in force now, the soonest to end first."""
        return {"items": [_mute_payload(m) for m in mutes.active_mutes()]}


@console.get("/console")
def console_page():
    """The 191 dispatcher console (public page; signing in happens in the page)."""
    return render_template("dispatch/console.html", tile_url=current_app.config["TILE_URL"])
