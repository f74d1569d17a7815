"""Zones (public GeoJSON with ETag, admin changes) and facilities (nearest first) endpoints."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from backend.audit import service as audit
from backend.auth.decorators import staff_required
from backend.auth.models import Role
from backend.web.transactions import unit_of_work
from geo import service
from geo.models import Zone
from geo.schemas import (
    FacilityCollectionSchema,
    FacilityQuerySchema,
    ZoneCollectionSchema,
    ZoneFeatureInSchema,
    ZoneFeatureSchema,
    ZoneQuerySchema,
)

zones_blp = Blueprint("zones", __name__, url_prefix="/api/v1/zones", description="Geofence zones of Phuket")
facilities_blp = Blueprint("facilities", __name__, url_prefix="/api/v1/facilities",
                           description="Hospitals, police, marine police and entry checkpoints")


def _zone_or_404(zone_id: int) -> Zone:
    zone = service.get_zone(zone_id=zone_id)
    if zone is None:
        abort(404, message=f"no zone {zone_id}")
    return zone


@zones_blp.route("")
class Zones(MethodView):
    """Every zone, and adding one."""

    @zones_blp.arguments(ZoneQuerySchema, location="query")
    @zones_blp.response(200, ZoneCollectionSchema,
                        description="GeoJSON FeatureCollection; send If-None-Match with the ETag to get 304")
    @zones_blp.alt_response(304, description="Not modified since the ETag you hold")
    def get(self, args: dict):
        """All zones as GeoJSON (cacheable: ETag and conditional GET)."""
        collection = service.zones_collection(kinds=args.get("kind"))
        response = Response(collection.body, mimetype="application/json")
        response.set_etag(collection.etag)
        response.headers["Cache-Control"] = "public, no-cache"
        return response.make_conditional(request)

    @staff_required(Role.ADMIN)
    @zones_blp.arguments(ZoneFeatureInSchema)
    @zones_blp.response(201, ZoneFeatureSchema)
    @zones_blp.alt_response(422, description="Invalid geometry or properties, or a slug another zone has")
    @unit_of_work
    def post(self, body: dict):
        """Add a zone (admin): a GeoJSON Feature with a Polygon or MultiPolygon."""
        zone = service.create_zone(geometry=body["geometry"], properties=body["properties"])
        audit.record("zone.create", subject_type="zone", subject_id=zone.id,
                     detail={"name": zone.name, "kind": zone.kind})
        return service.zone_feature(zone)


@zones_blp.route("/<int:zone_id>")
class ZoneById(MethodView):
    """One zone."""

    @zones_blp.response(200, ZoneFeatureSchema)
    def get(self, zone_id: int):
        """One zone as a GeoJSON Feature."""
        return service.zone_feature(_zone_or_404(zone_id))

    @staff_required(Role.ADMIN)
    @zones_blp.arguments(ZoneFeatureInSchema)
    @zones_blp.response(200, ZoneFeatureSchema)
    @zones_blp.alt_response(422, description="Invalid geometry or properties, or a slug another zone has")
    @unit_of_work
    def put(self, body: dict, zone_id: int):
        """Replace a zone's geometry and properties (admin)."""
        zone = service.update_zone(zone=_zone_or_404(zone_id), geometry=body["geometry"],
                                   properties=body["properties"])
        audit.record("zone.update", subject_type="zone", subject_id=zone.id,
                     detail={"name": zone.name, "kind": zone.kind})
        return service.zone_feature(zone)

    @staff_required(Role.ADMIN)
    @zones_blp.response(204)
    @unit_of_work
    def delete(self, zone_id: int):
        """Remove a zone (admin)."""
        zone = _zone_or_404(zone_id)
        audit.record("zone.delete", subject_type="zone", subject_id=zone.id,
                     detail={"name": zone.name, "kind": zone.kind})
        service.delete_zone(zone=zone)


@facilities_blp.route("")
class Facilities(MethodView):
    """Facilities, nearest first when asked from a point."""

    @facilities_blp.arguments(FacilityQuerySchema, location="query")
    @facilities_blp.response(200, FacilityCollectionSchema)
    def get(self, args: dict):
        """Facilities as GeoJSON; with lat/lon, the nearest (real distance in metres) first."""
        kinds = args.get("kind")
        if "lat" in args:
            found = service.nearest_facilities(lat=args["lat"], lon=args["lon"], kinds=kinds,
                                               limit=args.get("limit", 3))
            features = [service.facility_feature(f, d) for f, d in found]
        else:
            facilities = service.list_facilities(kinds=kinds)[: args.get("limit")]
            features = [service.facility_feature(f) for f in facilities]
        return {"type": "FeatureCollection", "features": features}
