"""Safety broadcasts (191 center, public CAP feed) and the tourist's inbox."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from backend.auth.decorators import current_staff, staff_required
from backend.auth.models import Role
from backend.tracking.devices import current_card, current_device, device_required
from backend.web.transactions import unit_of_work
from notifications import broadcasts, cap, messages, outbox
from notifications.schemas import (
    BroadcastCreatedSchema,
    BroadcastCreateSchema,
    BroadcastListSchema,
    BroadcastPreviewResultSchema,
    BroadcastPreviewSchema,
    BroadcastQuerySchema,
    BroadcastSchema,
    InboxQuerySchema,
    InboxSchema,
    LanguagesSchema,
    PublicBroadcastListSchema,
    TemplateListSchema,
)

blp = Blueprint("broadcasts", __name__, url_prefix="/api/v1/broadcasts",
                description="Geo-targeted safety broadcasts, also published as OASIS CAP 1.2")
languages_blp = Blueprint("languages", __name__, url_prefix="/api/v1/languages",
                          description="The languages the service writes messages in")
inbox_blp = Blueprint("mobile_inbox", __name__, url_prefix="/api/v1/mobile",
                      description="The companion app's inbox of push messages")

CAP_MIMETYPE = "application/cap+xml"


def public_url(path: str) -> str:
    """An absolute URL of ``path`` on this service (``PUBLIC_BASE_URL`` or the request's host)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return base.rstrip("/") + path


def _broadcast_or_404(broadcast_id: int):  # noqa: ANN202
    broadcast = broadcasts.get_broadcast(broadcast_id=broadcast_id)
    if broadcast is None:
        abort(404, message=f"there is no broadcast {broadcast_id}")
    return broadcast


@blp.route("")
class Broadcasts(MethodView):
    """Send and list safety broadcasts."""

    @staff_required(Role.DISPATCHER)
    @blp.arguments(BroadcastCreateSchema)
    @blp.response(201, BroadcastCreatedSchema)
    @blp.alt_response(422, description="Invalid broadcast, polygon or unknown zone")
    @unit_of_work
    def post(self, body: dict):
        """Send a broadcast to every tracked tourist inside the area (dispatcher, admin)."""
        area = body["area"]
        broadcast = broadcasts.create_broadcast(
            template=body.get("template"), headline=body.get("headline"), message=body.get("message"),
            instruction=body.get("instruction"), language=body["language"],
            translations=body.get("translations"), severity=body.get("severity"),
            urgency=body.get("urgency"), certainty=body.get("certainty"), category=body.get("category"),
            event=body.get("event"), area=area.get("polygon"), zone_id=area.get("zone_id"),
            area_desc=body.get("area_desc"), expires_at=body.get("expires_at"),
            created_by=current_staff().id)
        return {"id": broadcast.id, "recipients": broadcast.recipients,
                "cap_url": public_url(f"/api/v1/broadcasts/{broadcast.id}/cap.xml")}

    @staff_required(Role.DISPATCHER)
    @blp.arguments(BroadcastQuerySchema, location="query")
    @blp.response(200, BroadcastListSchema)
    def get(self, query: dict):
        """Broadcasts, newest first (dispatcher, admin)."""
        return {"items": broadcasts.list_broadcasts(active_only=query["active"], limit=query["limit"])}


@blp.route("/templates")
class BroadcastTemplates(MethodView):
    """Broadcasts pre-written in every supported language."""

    @staff_required(Role.DISPATCHER)
    @blp.response(200, TemplateListSchema)
    def get(self):
        """The templates with their headline and message in each language (dispatcher, admin)."""
        return {"items": [{"id": t.id, "severity": t.severity, "urgency": t.urgency, "certainty": t.certainty,
                           "category": t.category, "event": t.event,
                           "headline": {lang: t.headline(lang) for lang in messages.SUPPORTED_LANGUAGES},
                           "message": {lang: t.message(lang) for lang in messages.SUPPORTED_LANGUAGES}}
                          for t in broadcasts.TEMPLATES.values()]}


@blp.route("/preview")
class BroadcastPreview(MethodView):
    """Who a broadcast would reach, before it is sent."""

    @staff_required(Role.DISPATCHER)
    @blp.arguments(BroadcastPreviewSchema)
    @blp.response(200, BroadcastPreviewResultSchema)
    @blp.alt_response(422, description="Invalid polygon or unknown zone")
    def post(self, body: dict):
        """The tracked tourists inside the area now, counted by the language they read (dispatcher, admin).

        Changes nothing: no broadcast, no message, no audit entry.
        """
        area = body["area"]
        return broadcasts.preview(area=area.get("polygon"), zone_id=area.get("zone_id"))


@blp.route("/active")
class ActiveBroadcasts(MethodView):
    """The broadcasts in force now: public, like any public alert."""

    @blp.response(200, PublicBroadcastListSchema)
    def get(self):
        """Active (not expired, not cancelled) broadcasts with their areas, newest first (public)."""
        return {"items": broadcasts.list_broadcasts(active_only=True, limit=200)}


@blp.route("/<int:broadcast_id>")
class BroadcastDetail(MethodView):
    """One broadcast."""

    @staff_required(Role.DISPATCHER)
    @blp.response(200, BroadcastSchema)
    def get(self, broadcast_id: int):
        """A broadcast with its area and recipient count (dispatcher, admin)."""
        return _broadcast_or_404(broadcast_id)


@blp.route("/<int:broadcast_id>/cancel")
class BroadcastCancel(MethodView):
    """End a broadcast early."""

    @staff_required(Role.DISPATCHER)
    @blp.response(200, BroadcastSchema)
    @unit_of_work
    def post(self, broadcast_id: int):
        """Cancel: no longer active; messages not yet pushed are not pushed (dispatcher, admin)."""
        return broadcasts.cancel_broadcast(broadcast=_broadcast_or_404(broadcast_id), cancelled_by=current_staff().id)


@blp.route("/<int:broadcast_id>/cap.xml")
class BroadcastCap(MethodView):
    """The broadcast as an OASIS CAP 1.2 alert."""

    @blp.response(200, description="CAP 1.2 alert (urn:oasis:names:tc:emergency:cap:1.2)",
                  content_type=CAP_MIMETYPE)
    def get(self, broadcast_id: int):
        """The CAP 1.2 document of a broadcast (public)."""
        broadcast = _broadcast_or_404(broadcast_id)
        sender = cap.sender_for(current_app.config["CARD_ISSUER"])
        document = cap.build_alert(broadcast, sender=sender,
                                   web=public_url(f"/api/v1/broadcasts/{broadcast.id}/cap.xml"))
        response = Response(document, mimetype=CAP_MIMETYPE)
        response.charset = "utf-8"
        response.headers["Cache-Control"] = "public, max-age=60"
        return response


@inbox_blp.route("/messages")
class Inbox(MethodView):
    """The tourist's messages: SOS updates, warnings, broadcasts."""

    @device_required(allow_ended_card=True)
    @inbox_blp.arguments(InboxQuerySchema, location="query")
    @inbox_blp.response(200, InboxSchema)
    def get(self, query: dict):
        """The card's messages, newest first, one per event (device)."""
        items = outbox.inbox(card_id=current_card().id, device_id=current_device().id, limit=query["limit"],
                             before_id=query.get("before_id"))
        return {"items": items}


@languages_blp.route("")
class Languages(MethodView):
    """The languages of every message the service sends."""

    @languages_blp.response(200, LanguagesSchema)
    def get(self):
        """The default and the supported languages, each named in itself (public)."""
        return {"default": messages.DEFAULT_LANGUAGE, "supported": messages.languages()}
