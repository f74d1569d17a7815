"""Marine API (``/api/v1/marine``): operators, trips and manifests, sea stations and conditions.

Access: an admin may do everything. A ``marine_operator`` works on its own operator's trips only:
another operator's trip is ``403`` on every route (an unknown trip is ``404``), and the lists
hold only its own. Dispatchers read every trip (list, detail with the manifest, map) and change
none. Sea conditions are public; observations come from stations with their own token.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from backend.auth.decorators import bearer_token, current_staff, staff_required
from backend.auth.models import Role
from backend.cards.presented import CardRefused, CardThrottled
from backend.extensions import db
from backend.marine import conditions, service
from backend.marine.models import Trip
from backend.marine.schemas import (
    BoardingInputSchema,
    BoardingRefusalSchema,
    BoardingSchema,
    ConditionsSchema,
    DepartInputSchema,
    HoldSchema,
    ObservationInputSchema,
    ObservationSchema,
    OperatorInputSchema,
    OperatorListSchema,
    OperatorSchema,
    StationCreatedSchema,
    StationInputSchema,
    TripCollectionSchema,
    TripDetailSchema,
    TripInputSchema,
    TripListSchema,
    TripQuerySchema,
    TripSchema,
)
from backend.models_base import utcnow
from backend.web.transactions import unit_of_work

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint("marine", __name__, url_prefix="/api/v1/marine",
                description="Marine tourism safety: boat trips with card-scanned manifests, sea conditions")

OPERATOR = Role.MARINE_OPERATOR
READERS = (Role.MARINE_OPERATOR, Role.DISPATCHER)
STATION_SECURITY = [{"stationToken": []}]


def _is_admin() -> bool:
    return current_staff().role == Role.ADMIN


def _own_operator_id() -> int | None:
    """The operator a marine_operator is bound to (None for admins and dispatchers: every operator)."""
    staff = current_staff()
    return staff.operator_id if staff.role == Role.MARINE_OPERATOR else None


def trip_access(func: F) -> F:
    """Load ``trip_id``: 404 when unknown, 403 for another operator's staff (below ``staff_required``,
    above ``@blp.arguments``: access is decided before the body is read)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        trip = service.get_trip(kwargs["trip_id"])
        if trip is None:
            abort(404, message="no such trip")
        staff = current_staff()
        if staff.role == Role.MARINE_OPERATOR and trip.operator_id != staff.operator_id:
            abort(403, message="this trip belongs to another operator")
        g.trip = trip
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_trip() -> Trip:
    """The trip of this request (inside a ``trip_access`` view)."""
    return g.trip


def _statuses(args: dict) -> tuple[str, ...] | None:
    if "status" not in args:
        return None
    return tuple(s.strip() for s in args["status"].split(",") if s.strip())


def card_refused(exc: CardRefused):  # noqa: ANN201
    """A refused boarding scan: 422 with the reason code, naming the body field it concerns (marine.init_app)."""
    body = {"code": 422, "status": "Unprocessable Entity", "message": exc.message, "reason": exc.reason,
            "errors": {exc.field or "card_token": [f"{exc.reason}: {exc.message}"]}}
    return jsonify(BoardingRefusalSchema().dump(body)), 422


def departure_held(exc: conditions.DepartureHeld):  # noqa: ANN201
    """A held departure: 409 naming the marine warning near the pier (marine.init_app)."""
    return jsonify(HoldSchema().dump({"code": 409, "status": "Conflict", "message": str(exc),
                                      "warning": exc.hold.as_dict()})), 409


# --- operators (admin) ------------------------------------------------------------------------

@blp.route("/operators")
class Operators(MethodView):
    """Boat-tour operators."""

    @staff_required(OPERATOR)
    @blp.response(200, OperatorListSchema)
    def get(self):
        """Every operator (admin); an operator's staff see their own."""
        own = _own_operator_id()
        items = service.list_operators()
        return {"items": [o for o in items if own is None or o.id == own]}

    @staff_required(Role.ADMIN)
    @blp.arguments(OperatorInputSchema)
    @blp.response(201, OperatorSchema)
    @unit_of_work
    def post(self, body: dict):
        """Register an operator (admin); ``flask operators create`` does the same."""
        return service.create_operator(name=body["name"], licence=body.get("licence"))


# --- trips ------------------------------------------------------------------------------------

@blp.route("/trips")
class Trips(MethodView):
    """Register and list trips."""

    @staff_required(*READERS)
    @blp.arguments(TripQuerySchema, location="query")
    @blp.response(200, TripListSchema)
    def get(self, args: dict):
        """Trips, at sea first (dispatcher, admin; an operator's staff: their own). ``status`` filters."""
        own = _own_operator_id()
        operator_id = own if own is not None else args.get("operator_id")
        trips = service.list_trips(operator_id=operator_id, statuses=_statuses(args))
        return {"items": service.trip_views(trips)}

    @staff_required(OPERATOR)
    @blp.arguments(TripInputSchema)
    @blp.response(201, TripSchema)
    def post(self, body: dict):
        """Register a trip at the pier (an operator's staff, for their operator; an admin names ``operator_id``)."""
        return service.trip_view(_register_trip(body))


@unit_of_work  # committed before the reply is read: its times as stored (UTC), not as sent
def _register_trip(body: dict) -> Trip:
    staff = current_staff()
    if staff.role == Role.ADMIN:
        if "operator_id" not in body:
            abort(422, message="an admin names the trip's operator",
                  errors={"json": {"operator_id": ["Missing data for required field."]}})
        operator = service.get_operator(body["operator_id"])
        if operator is None:
            abort(422, message="no such operator", errors={"json": {"operator_id": ["no such operator"]}})
    else:
        if body.get("operator_id") not in (None, staff.operator_id):
            abort(403, message="you may only register trips of your own operator")
        operator = service.get_operator(staff.operator_id)
        if operator is None:
            abort(403, message="your account is not bound to an operator")
    fields = {k: v for k, v in body.items() if k != "operator_id"}
    return service.create_trip(operator=operator, by=staff, **fields)


@blp.route("/trips.geojson")
class TripMap(MethodView):
    """Boats on the map."""

    @staff_required(*READERS)
    @blp.arguments(TripQuerySchema, location="query")
    @blp.response(200, TripCollectionSchema)
    def get(self, args: dict):
        """Trips at their last position (a passenger's newest fix, else their pier) as GeoJSON; ``status`` filters.

        Dispatcher, admin; an operator's staff: their own trips. No personal data.
        """
        own = _own_operator_id()
        trips = service.list_trips(operator_id=own if own is not None else args.get("operator_id"),
                                   statuses=_statuses(args))
        features = []
        for view in service.trip_views(trips):
            position = view["last_position"]
            source = "passenger"
            if position is None:
                pier = conditions.pier_position(view["pier"])
                if pier is None:
                    continue
                position, source = {"lat": pier[0], "lon": pier[1], "recorded_at": None}, "pier"
            features.append({
                "type": "Feature", "id": view["id"],
                "geometry": {"type": "Point", "coordinates": [position["lon"], position["lat"]]},
                "properties": {
                    "trip_id": view["id"], "vessel_name": view["vessel_name"],
                    "vessel_registration": view["vessel_registration"], "operator": view["operator"]["name"],
                    "pier": view["pier"], "destination": view["destination"], "status": view["status"],
                    "returns_by": view["returns_by"], "passengers_aboard": view["passengers_aboard"],
                    "recorded_at": position["recorded_at"], "position_source": source, "overdue": view["overdue"],
                },
            })
        return {"type": "FeatureCollection", "features": features}


@blp.route("/trips/<int:trip_id>")
class TripById(MethodView):
    """One trip and its manifest."""

    @staff_required(*READERS)
    @trip_access
    @blp.response(200, TripDetailSchema)
    @unit_of_work  # the audit entry of the read
    def get(self, trip_id: int):
        """The trip with its passengers and their last fixes (dispatcher, admin, its operator); audited."""
        trip = current_trip()
        return {**service.trip_view(trip), "passengers": service.read_manifest(trip)}


@blp.route("/trips/<int:trip_id>/passengers")
class Passengers(MethodView):
    """Boarding scans."""

    @staff_required(OPERATOR)
    @trip_access
    @blp.arguments(BoardingInputSchema)
    @blp.response(201, BoardingSchema, description="Boarded")
    @blp.alt_response(200, schema=BoardingSchema, description="The card is aboard already: one passenger")
    @blp.alt_response(422, schema=BoardingRefusalSchema, description="The card is refused (`reason` says why)")
    @blp.alt_response(409, description="The boat is full, or the trip has left")
    @blp.alt_response(429, description="Too many wrong card id and passport pairs")
    @unit_of_work(keep_on=(CardRefused, CardThrottled))  # a refused card keeps the throttle's count
    def post(self, body: dict, trip_id: int):
        """Scan a card aboard: its QR (``card_token``) or its id with the passport number."""
        staff = current_staff()
        card = service.check_card(card_token=body.get("card_token"), card_id=body.get("card_id"),
                                  passport_number=body.get("passport_number"), by=staff)
        result = service.board(trip=current_trip(), card=card, by=staff)
        passenger = result.passenger
        tourist = passenger.card.tourist
        aboard, _ = service.head_counts([trip_id])[trip_id]
        payload = {"card_id": passenger.card_id, "full_name": tourist.full_name, "nationality": tourist.nationality,
                   "boarded_at": passenger.boarded_at, "trip_id": trip_id, "passengers_aboard": aboard}
        return payload, (201 if result.created else 200)


@blp.route("/trips/<int:trip_id>/passengers/<card_id>/ashore")
class Ashore(MethodView):
    """Scanning a passenger ashore."""

    @staff_required(OPERATOR)
    @trip_access
    @blp.response(200, BoardingSchema)
    @unit_of_work
    def post(self, trip_id: int, card_id: str):
        """The passenger is ashore; repeating it changes nothing. 404: the card is not on this manifest."""
        passenger = service.scan_ashore(trip=current_trip(), card_id=card_id, by=current_staff())
        if passenger is None:
            abort(404, message="this card is not on the trip's manifest")
        tourist = passenger.card.tourist
        aboard, _ = service.head_counts([trip_id])[trip_id]
        return {"card_id": passenger.card_id, "full_name": tourist.full_name, "nationality": tourist.nationality,
                "boarded_at": passenger.boarded_at, "ashore_at": passenger.ashore_at, "trip_id": trip_id,
                "passengers_aboard": aboard}


@blp.route("/trips/<int:trip_id>/depart")
class Depart(MethodView):
    """The boat leaves the pier."""

    @staff_required(OPERATOR)
    @trip_access
    @blp.arguments(DepartInputSchema)
    @blp.response(200, TripSchema)
    @blp.alt_response(409, schema=HoldSchema, description="Held by a marine warning near the pier (or returned)")
    @blp.alt_response(403, description="Only an admin may override a hold")
    @unit_of_work(keep_on=(conditions.DepartureHeld,))  # the audit entry of the held departure (trip unchanged)
    def post(self, body: dict, trip_id: int):
        """Status ``at_sea``; held (409 naming the warning) while a marine warning covers the pier, unless an
        admin sends ``override_reason`` (audited)."""
        trip = service.depart(trip=current_trip(), by=current_staff(), override_reason=body.get("override_reason"),
                              may_override=_is_admin())
        return service.trip_view(trip)


@blp.route("/trips/<int:trip_id>/return")
class Return(MethodView):
    """The boat is back at the pier."""

    @staff_required(OPERATOR)
    @trip_access
    @blp.response(200, TripSchema)
    @blp.alt_response(409, description="The trip has not departed")
    @unit_of_work
    def post(self, trip_id: int):
        """Status ``returned``; each passenger not scanned ashore raises ``passenger_unaccounted`` at once."""
        trip, _ = service.return_trip(trip=current_trip(), by=current_staff())
        return service.trip_view(trip)


# --- sea conditions ---------------------------------------------------------------------------

@blp.route("/stations")
class Stations(MethodView):
    """Sea-condition stations."""

    @staff_required(Role.ADMIN)
    @blp.arguments(StationInputSchema)
    @blp.response(201, StationCreatedSchema)
    @unit_of_work
    def post(self, body: dict):
        """Register a station (admin); its token is in this reply only."""
        if body.get("zone_id") is not None:
            from geo.models import Zone

            if db.session.get(Zone, body["zone_id"]) is None:
                abort(422, message="no such zone", errors={"json": {"zone_id": ["no such zone"]}})
        station, token = conditions.create_station(**body)
        return {"id": station.id, "name": station.name, "lat": station.lat, "lon": station.lon,
                "zone_id": station.zone_id, "station_token": token}


@blp.route("/observations")
class Observations(MethodView):
    """A station's reports."""

    @blp.arguments(ObservationInputSchema)
    @blp.response(201, ObservationSchema)
    @blp.alt_response(401, description="Missing or invalid station token")
    @blp.doc(security=STATION_SECURITY)
    def post(self, body: dict):
        """Report sea conditions (``Authorization: Bearer <station_token>``)."""
        station, obs, warning = _record_observation(body)
        return {"id": obs.id, "station_id": station.id, "observed_at": obs.observed_at,
                "wave_height_m": obs.wave_height_m, "wind_speed_mps": obs.wind_speed_mps, "gust_mps": obs.gust_mps,
                "flag": obs.flag,
                "warning": None if warning is None else {"reason": warning.reason,
                                                         "since": conditions.rfc3339(warning.since)}}


@unit_of_work  # committed before the reply is read: its times as stored (UTC), not as sent
def _record_observation(body: dict) -> tuple[Any, Any, Any]:
    station = conditions.station_for_token(bearer_token())
    if station is None:
        abort(401, message="missing or invalid station token", headers={"WWW-Authenticate": 'Bearer realm="station"'})
    return (station, *conditions.record_observation(station=station, **body))


@blp.route("/conditions")
class Conditions(MethodView):
    """Sea conditions (public)."""

    @blp.response(200, ConditionsSchema)
    def get(self):
        """Every station's newest observation and its marine warning in force, if any (public)."""
        now = utcnow()
        return {"stations": conditions.conditions(now), "generated_at": now}, 200, {"Cache-Control": "public, max-age=30"}

