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
from backend.dispatch import positions, service
from backend.dispatch.models import IncidentKind, IncidentStatus, Severity
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
)
from backend.extensions import db

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
    def get(self, args: dict):
        """List incidents (filter by status, kind, severity, card), most severe and oldest first."""
        seq = service.last_seq()  # read first: the list reflects at least every event up to it
        items = service.list_incidents(**args)
        record("incident.list", subject_type="incident",
               detail={"filters": {k: v for k, v in args.items() if k != "limit"}, "count": len(items)})
        db.session.commit()
        return {"items": items, "last_seq": seq}

    @staff_required(DISPATCH)
    @blp.arguments(IncidentCreateSchema)
    @blp.response(201, IncidentSchema)
    @blp.alt_response(200, schema=IncidentSchema, description="The card already had an open incident of that kind")
    def post(self, body: dict):
        """Open an incident for a card holder (e.g. from a 191 phone call); joins an open one of the same kind."""
        try:
            incident, created = service.open_call_incident(
                card_id=body["card_id"], kind=IncidentKind(body["kind"]),
                severity=Severity(body["severity"]) if "severity" in body else None,
                lat=body.get("lat"), lon=body.get("lon"), accuracy_m=body.get("accuracy_m"),
                category=body.get("category"), note=body.get("note"), actor=_actor())
        except service.UnknownCard:
            db.session.rollback()
            abort(422, message="unknown card", errors={"json": {"card_id": ["no card has this id"]}})
        record("incident.create" if created else "incident.update", subject_type="incident",
               subject_id=incident.id, card_id=incident.card_id, detail={"kind": incident.kind, "source": "191 call"})
        db.session.commit()
        return incident, 201 if created else 200


@blp.route("/incidents/<int:incident_id>")
class IncidentDetail(MethodView):
    """One incident."""

    @staff_required(DISPATCH)
    @blp.response(200, IncidentDetailSchema)
    def get(self, incident_id: int):
        """An incident with its timeline, the holder's details, their stay and last position."""
        incident = _incident_or_404(incident_id)
        detail = service.incident_detail(incident)
        record("incident.read", subject_type="incident", subject_id=incident.id, card_id=incident.card_id)
        db.session.commit()
        return detail


def _change(incident_id: int, to: IncidentStatus, **kwargs: str | None):  # noqa: ANN202
    """Apply a workflow step: 404 unknown, 409 not allowed from the current status; audited."""
    try:
        incident = service.change_status(incident_id=incident_id, to=to, actor=_actor(), **kwargs)
    except service.IncidentNotFound:
        db.session.rollback()
        abort(404, message=f"no incident {incident_id}")
    except service.InvalidTransition as exc:
        db.session.rollback()
        abort(409, message=str(exc))
    record(f"incident.{to.value}", subject_type="incident", subject_id=incident.id, card_id=incident.card_id,
           detail={k: v for k, v in kwargs.items() if v} or None)
    db.session.commit()
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
        """Dispatch a unit (police, ambulance, marine police boat …) to an incident."""
        return _change(incident_id, IncidentStatus.DISPATCHED, unit=body["unit"], note=body.get("note"))


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
    def post(self, body: dict, incident_id: int):
        """Add a note to an incident's timeline."""
        try:
            incident = service.note_incident(incident_id=incident_id, note=body["note"], actor=_actor())
        except service.IncidentNotFound:
            db.session.rollback()
            abort(404, message=f"no incident {incident_id}")
        record("incident.note", subject_type="incident", subject_id=incident.id, card_id=incident.card_id)
        db.session.commit()
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
    def get(self, args: dict):
        """The latest position of each tracked card inside the viewport, with its status."""
        bbox = args["bbox"]
        found, truncated = positions.positions_in(bbox=bbox, limit=args["limit"])
        record("positions.read", subject_type="position",
               detail={"bbox": [bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat], "count": len(found)})
        db.session.commit()
        return {"type": "FeatureCollection", "features": [p.feature() for p in found], "truncated": truncated}


@blp.route("/cards/<string:card_id>/track")
class Track(MethodView):
    """Where a tourist has been."""

    @staff_required(DISPATCH)
    @blp.arguments(CardTrackQuerySchema, location="query")
    @blp.response(200, CardTrackSchema)
    def get(self, args: dict, card_id: str):
        """The card's pings of the last ``hours`` (default 24), oldest first."""
        if db.session.get(Card, card_id) is None:
            abort(404, message=f"no card {card_id}")
        pings = positions.card_track(card_id=card_id, hours=args["hours"])
        record("card.track.read", subject_type="card", subject_id=card_id, card_id=card_id,
               detail={"hours": args["hours"], "count": len(pings)})
        db.session.commit()
        return {"type": "FeatureCollection", "card_id": card_id, "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
             "properties": {"recorded_at": p.recorded_at, "accuracy_m": p.accuracy_m, "speed_mps": p.speed_mps,
                            "battery_pct": p.battery_pct, "source": p.source}} for p in pings]}


@console.get("/console")
def console_page():
    """The 191 dispatcher console (public page; signing in happens in the page)."""
    return render_template("dispatch/console.html", tile_url=current_app.config["TILE_URL"])
