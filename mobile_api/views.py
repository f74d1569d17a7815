"""The companion app's HTTP surface under ``/api/v1/mobile`` (our app, OwnTracks, Traccar Client)."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from backend.cards.models import Card
from backend.extensions import db
from backend.tracking.devices import (
    DeviceCredential,
    admit,
    authenticate,
    current_card,
    current_credential,
    current_device,
    device_required,
    device_signed,
    may_track,
    revoked_with_card,
    unauthorized,
)
from backend.tracking.models import Device
from backend.tracking.service import CardNotTrackable, PingInput
from backend.tracking.writer import DeviceRefused, Recorded
from backend.web.transactions import unit_of_work
from mobile_api import osmand, owntracks, service
from mobile_api.schemas import (
    EnrollmentSchema,
    EnrollSchema,
    MeSchema,
    MeUpdateSchema,
    OsmAndJsonSchema,
    OsmAndQuerySchema,
    OwnTracksLocationSchema,
    PingBatchSchema,
    PingResultSchema,
    PingSchema,
    PushTokenResultSchema,
    PushTokenSchema,
    SosCancelSchema,
    SosSchema,
    SosStatusSchema,
    WebPushKeySchema,
    WebPushResultSchema,
    WebPushSubscriptionSchema,
)
from notifications import webpush

blp = Blueprint("mobile", __name__, url_prefix="/api/v1/mobile",
                description="Companion app: enrollment, pings, SOS, push token; OwnTracks and Traccar Client")

log = logging.getLogger(__name__)
_ping_schema = PingSchema()
_SOS_ATTEMPTS = 3


# --- enrollment ----------------------------------------------------------------------------

@blp.route("/enroll")
class Enroll(MethodView):
    """Enroll a phone with the card."""

    @blp.arguments(EnrollSchema)
    @blp.response(201, EnrollmentSchema)
    @blp.alt_response(401, description="Unknown card or wrong enrollment code")
    @blp.alt_response(403, description="The card is closed, revoked or expired")
    @blp.alt_response(429, description="Too many wrong codes for this card or from this address")
    # a refusal keeps its failure count (the throttle's state): committed too, then answered
    @unit_of_work(keep_on=(service.EnrollmentThrottled, service.EnrollmentRefused, service.CardNotEnrollable))
    def post(self, body: dict[str, Any]):
        """Enroll with the card id and enrollment code; returns the device token (keep it secret).

        A card keeps up to three phones; enrolling a fourth revokes the least recently seen.
        """
        result = service.enroll(card_id=body["card_id"], code=body["enrollment_code"],
                                platform=body["platform"], push_token=body["push_token"],
                                language=body["language"], client_addr=request.remote_addr)
        device = result.device
        return {"device_id": device.id, "device_token": result.device_token, "osmand_id": device.osmand_id,
                "ping_interval_s": service.next_ping_in_s(result.card.id, None), "card_id": result.card.id,
                "devices": service.active_devices(result.card.id), "revoked_device_ids": result.revoked_device_ids}


# --- pings ---------------------------------------------------------------------------------

def _validate_pings(raw: list[Any]) -> tuple[list[tuple[int, PingInput]], list[dict[str, Any]]]:
    """Validate each ping on its own: (good pings with their index, rejected pings with index and errors).

    The device times are screened against the card by the writer (it loads the card anyway).
    """
    good: list[tuple[int, PingInput]] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        claimed_id = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
        try:
            if not isinstance(item, dict):
                raise ValidationError({"_schema": ["a ping is a JSON object"]})
            data = _ping_schema.load(item)
        except ValidationError as exc:
            errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            rejected.append({"index": index, "id": claimed_id, "errors": errors})
            continue
        good.append((index, service.ping_input(
            client_id=str(data["id"]), lat=data["lat"], lon=data["lon"], recorded_at=data["recorded_at"],
            accuracy_m=data["accuracy_m"], battery_pct=data["battery_pct"], speed_mps=data["speed_mps"],
            heading_deg=data["heading_deg"], altitude_m=data["altitude_m"])))
    return good, rejected


def _no_valid_ping(rejected: list[dict[str, Any]]) -> None:
    abort(422, message="no valid ping in the batch",
          errors={"json": {"pings": {str(r["index"]): r["errors"] for r in rejected}}})


@blp.before_request
def _note_arrival() -> None:
    g.arrived_at = time.monotonic()  # a 503 for a missing database is due within 5 s of this


def _deadline() -> float:
    """When the request must have its answer from the writer (what it spent before counts)."""
    return g.get("arrived_at", time.monotonic()) + float(current_app.config.get("DB_UNAVAILABLE_AFTER_S", 4.5))


def retry_later(_exc: Any = None) -> dict[str, str]:
    """The ``Retry-After`` of an answer the database could not give in time (the writer's 503)."""
    return {"Retry-After": str(current_app.config.get("DB_RETRY_AFTER_S", 5))}


def _store(pings: list[PingInput], source: str, *, credential: DeviceCredential | None = None,
           screen_times: bool = False) -> Recorded:
    """Record pings (group commit); 401 for a refused credential, 403 (nothing stored) for an ended card,
    503 when the writer could not store them in time (mobile_api.init_app answers these).

    Without ``credential`` the request's device was authenticated already (``g.device``).
    """
    if credential is None:
        device_id = current_device().id
        db.session.close()  # give the connection back while the writer stores the group
    else:
        device_id = credential.device_id
    return service.record(device_id=device_id, pings=pings, source=source, credential=credential,
                          screen_times=screen_times, deadline=_deadline())


@blp.route("/pings")
class Pings(MethodView):
    """Buffered position fixes from the app."""

    @device_signed
    @blp.arguments(PingBatchSchema())  # an instance: a class would be instantiated on every request
    @blp.response(200, PingResultSchema)
    @blp.alt_response(401, description="Missing or invalid device token")
    @blp.alt_response(403, description="The card is closed, revoked or expired: nothing stored")
    @blp.alt_response(413, description="Body larger than MAX_CONTENT_LENGTH")
    @blp.alt_response(422, description="Not a batch of 1–500 pings, or no valid ping in it")
    @blp.alt_response(503, description="The database could not store the batch in time: send it again")
    def post(self, body: dict[str, Any]):
        """Send 1–500 pings in any order; each is validated on its own and stored once by its id.

        Bad pings are listed in ``rejected`` and never drop the good ones; a batch without a
        single valid ping is refused with 422 (and changes nothing).
        """
        # no unit of work: the request's session is given back, the group-commit writer stores the pings
        good, rejected = _validate_pings(body["pings"])
        if not good:
            _no_valid_ping(rejected)
        result = _store([ping for _, ping in good], "app", credential=current_credential(), screen_times=True)
        for position, reason in result.refused:
            index, ping = good[position]
            rejected.append({"index": index, "id": ping.client_id, "errors": {"recorded_at": [reason]}})
        if len(result.refused) == len(good):
            _no_valid_ping(sorted(rejected, key=lambda r: r["index"]))
        rejected.sort(key=lambda r: r["index"])
        return {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": rejected,
                "next_ping_in_s": service.ping_interval_s(at_sea=result.at_sea, open_incident=result.open_incident)}


# --- SOS -----------------------------------------------------------------------------------

@unit_of_work  # committed before the app hears back: nothing acknowledged is lost
def _sos_attempt(sos: service.SosInput, source: str) -> service.SosOutcome:
    return service.raise_sos(device=current_device(), card=current_card(), sos=sos, source=source)


def _raise_sos(sos: service.SosInput, source: str) -> service.SosOutcome:
    """Raise the SOS, committed before answering; a concurrent duplicate (rolled back) is read back."""
    for attempt in range(_SOS_ATTEMPTS):
        try:
            return _sos_attempt(sos, source)
        except service.SosRace:
            if attempt == _SOS_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _sos_status(incident: Any) -> dict[str, Any]:
    return {"incident_id": incident.id, "status": incident.status, "updated_at": incident.updated_at,
            "created_at": incident.created_at, "acknowledged_at": incident.acknowledged_at,
            "dispatched_at": incident.dispatched_at, "unit": incident.unit, **service.sos_closure(incident)}


@blp.route("/sos")
class Sos(MethodView):
    """The SOS button."""

    @device_required(allow_ended_card=True)
    @blp.arguments(SosSchema)
    @blp.response(201, SosStatusSchema)
    @blp.alt_response(200, schema=SosStatusSchema,
                      description="The same SOS again, or joined the card's open SOS incident")
    @blp.alt_response(401, description="Missing or invalid device token")
    def post(self, body: dict[str, Any]):
        """Call for help. Committed before the reply; retries with the same id never make a second incident.

        Accepted from every enrolled device, even when its card is closed, revoked or expired.
        """
        outcome = _raise_sos(service.SosInput(
            client_id=str(body["id"]), lat=body["lat"], lon=body["lon"], recorded_at=body["recorded_at"],
            accuracy_m=body["accuracy_m"], category=body["category"], note=body["note"],
            battery_pct=body["battery_pct"]), "app")
        return _sos_status(outcome.incident), 201 if outcome.created else 200


def _own_sos(incident_id: int) -> Any:
    incident = service.card_sos(card=current_card(), incident_id=incident_id)
    if incident is None:
        abort(404, message="no such SOS for this card")
    return incident


@blp.route("/sos/<int:incident_id>")
class SosStatus(MethodView):
    """One of the card's SOS incidents."""

    @device_required(allow_ended_card=True)
    @blp.response(200, SosStatusSchema)
    @blp.alt_response(404, description="Not an SOS of this card")
    def get(self, incident_id: int):
        """Where the 191 center is with this SOS."""
        return _sos_status(_own_sos(incident_id))


@blp.route("/sos/<int:incident_id>/cancel")
class SosCancel(MethodView):
    """Call off an SOS."""

    @device_required(allow_ended_card=True)
    @blp.arguments(SosCancelSchema, description="optional reason")
    @blp.response(200, SosStatusSchema)
    @blp.alt_response(404, description="Not an SOS of this card")
    @blp.alt_response(409, description="The SOS is already resolved")
    def post(self, body: dict[str, Any], incident_id: int):
        """Cancel the SOS (e.g. pressed by mistake); cancelling twice is fine."""
        return _sos_status(_cancel_sos(incident_id, reason=body.get("reason")))


@unit_of_work  # committed before the status is read back for the reply (as the dispatcher sees it)
def _cancel_sos(incident_id: int, *, reason: str | None) -> Any:
    incident = _own_sos(incident_id)
    service.cancel_sos(device=current_device(), incident=incident, reason=reason)
    return incident


# --- push token, me ------------------------------------------------------------------------

@blp.route("/push-token")
class PushToken(MethodView):
    """The phone's push registration."""

    @device_required
    @blp.arguments(PushTokenSchema)
    @blp.response(200, PushTokenResultSchema)
    @unit_of_work
    def put(self, body: dict[str, Any]):
        """Register (or clear, with null) the FCM token push messages are sent to."""
        device = service.set_push_token(device=current_device(), push_token=body["push_token"])
        return {"device_id": device.id, "push_enabled": device.push_token is not None}


@blp.route("/webpush/key")
class WebPushKey(MethodView):
    """The server's VAPID key."""

    @blp.response(200, WebPushKeySchema)
    def get(self):
        """The application server key to subscribe with (``pushManager.subscribe({applicationServerKey})``)."""
        return {"public_key": webpush.public_key()}


@blp.route("/webpush")
class WebPush(MethodView):
    """The browser's Web Push subscription (the web companion's push channel)."""

    @device_required
    @blp.arguments(WebPushSubscriptionSchema)
    @blp.response(200, WebPushResultSchema)
    @blp.alt_response(401, description="Missing or invalid device token")
    @blp.alt_response(409, description="The subscription is registered to another card's phone")
    @blp.alt_response(422, description="Endpoint not on an allowed push service, or bad keys")
    def put(self, body: dict[str, Any]):
        """Store this phone's subscription (replacing its previous one); every later message is also pushed there."""
        for attempt in range(2):  # a concurrent PUT of the same subscription (rolled back): read it back once
            try:
                device = _subscribe(body)
                break
            except IntegrityError:
                if attempt:
                    abort(409, message="the subscription changed at the same time: send it again")
        return {"device_id": device.id, "webpush_enabled": True,
                "endpoint_host": urlsplit(body["endpoint"]).hostname}

    @device_required
    @blp.response(204)
    @blp.alt_response(401, description="Missing or invalid device token")
    @unit_of_work
    def delete(self):
        """Stop Web Push to this phone (its own subscription only); fine when there is none."""
        webpush.unsubscribe(device=current_device())
        return None


@unit_of_work
def _subscribe(body: dict[str, Any]) -> Device:
    """Store the subscription (refusals: mobile_api.init_app); the device, read again after a rolled-back race."""
    device = current_device()
    webpush.subscribe(device=device, endpoint=body["endpoint"], p256dh=body["keys"]["p256dh"],
                      auth=body["keys"]["auth"])
    return device


@blp.route("/me")
class Me(MethodView):
    """The tourist's own view."""

    @device_required(allow_ended_card=True)
    @blp.response(200, MeSchema)
    def get(self):
        """The card, the open hotel stay and the last position the server holds."""
        return service.me(device=current_device(), card=current_card())

    @device_required(allow_ended_card=True)
    @blp.arguments(MeUpdateSchema)
    @blp.response(200, MeSchema)
    @blp.alt_response(422, description="Not a supported language (GET /api/v1/languages)")
    def patch(self, body: dict[str, Any]):
        """Choose the language of every later message to this phone (push, broadcasts, SOS updates)."""
        _set_language(body["language"])
        return service.me(device=current_device(), card=current_card())


@unit_of_work  # committed before the reply is read (as before: the reply shows what is stored)
def _set_language(language: str) -> None:
    service.set_language(device=current_device(), language=language)


# --- OwnTracks -----------------------------------------------------------------------------

def _json_body() -> Any:
    """The request's JSON (any content type, as some apps omit it); 400 when it is not JSON."""
    body = request.get_json(force=True, silent=True)
    if body is None:
        abort(400, message="the body is not JSON")
    return body


def _protocol_pings(fixes: list[tuple[int, Any]], protocol: str, errors: dict[str, Any]) -> list[PingInput]:
    """Pings from protocol fixes with a position; implausible device times go to ``errors``."""
    device, card = current_device(), current_card()
    pings = []
    for index, fix in fixes:
        if fix.lat is None or fix.lon is None:
            continue
        problem = service.time_error(card, fix.recorded_at)
        if problem:
            errors[str(index)] = {"timestamp": [f"the device time {problem}"]}
            continue
        client_id = getattr(fix, "client_uuid", None) or service.protocol_client_id(
            device_id=device.id, protocol=protocol, recorded_at=fix.recorded_at)
        pings.append(service.ping_input(
            client_id=client_id, lat=fix.lat, lon=fix.lon, recorded_at=fix.recorded_at, accuracy_m=fix.accuracy_m,
            battery_pct=fix.battery_pct, speed_mps=fix.speed_mps, heading_deg=fix.heading_deg,
            altitude_m=fix.altitude_m))
    return pings


def _owntracks_not_stored(reason: str, detail: Any = None) -> list:
    """The OwnTracks answer to a message the service does not store: ``200 []``, logged for the operators.

    The app re-queues any message that gets another status and stalls its queue behind it.
    """
    log.warning("OwnTracks message from device %s not stored: %s%s", current_device().id, reason,
                f" {detail}" if detail else "")
    return []


def _store_owntracks(pings: list[PingInput]) -> list:
    """Store OwnTracks locations; 401 for a credential no longer honoured, 503 while the database is away.

    OwnTracks gets its protocol's own answers: a Basic challenge, and ``200 []`` for what is not
    stored (the app would re-queue anything else); the 503 is the blueprint's (mobile_api.init_app).
    """
    device_id = current_device().id
    db.session.close()  # give the connection back while the writer stores the group
    try:
        service.record(device_id=device_id, pings=pings, source="owntracks", deadline=_deadline())
    except DeviceRefused:
        unauthorized(realm="owntracks", scheme="Basic")
    except CardNotTrackable as exc:  # the card ended since the request was admitted
        return _owntracks_not_stored(f"{len(pings)} location(s): {exc}")
    return []  # (WriterBusy, not stored yet: the 503; the app keeps the message and sends it again)


@blp.route("/owntracks")
class OwnTracks(MethodView):
    """The OwnTracks app in HTTP mode (Basic auth: device_id / device_token)."""

    @blp.doc(security=[{"ownTracksBasic": []}], requestBody={
        "required": False, "description": "an OwnTracks message (or an array of them); only _type location is stored",
        "content": {"application/json": {"schema": OwnTracksLocationSchema}}})
    @blp.response(200, description="a JSON array of messages for the app (`[]`), also for every message not "
                                   "stored: a location too old, before the card was issued or of an ended card, "
                                   "another _type, an empty or malformed body (each is logged)")
    @blp.alt_response(401, description="Wrong device id or token")
    @blp.alt_response(503, description="The database could not store the locations in time: the app sends them again")
    @unit_of_work  # the device's last contact (pings themselves: the group-commit writer)
    def post(self):
        """Store OwnTracks ``location`` messages as pings (vel km/h, tst epoch s); answer everything else ``[]``.

        Only wrong credentials get a non-2xx answer (and a database that is away, so nothing is lost).
        """
        auth = request.authorization
        found = None
        if auth is not None and auth.type == "basic" and auth.username and auth.password:
            found = authenticate(auth.password, device_id=auth.username)
        admit(found, allow_ended_card=True, realm="owntracks", scheme="Basic")
        body = request.get_json(force=True, silent=True)
        if body is None:
            return _owntracks_not_stored("the body is empty or not JSON", f"({request.content_length or 0} bytes)")
        try:
            batch = owntracks.parse(body)
        except owntracks.OwnTracksError as exc:
            return _owntracks_not_stored("not an OwnTracks message", exc.errors)
        if batch.ignored:
            log.info("OwnTracks message(s) from device %s ignored: _type %s", current_device().id,
                     ", ".join(sorted(batch.ignored_types)))
        device, card = current_device(), current_card()
        if not may_track(device, card):
            if batch.fixes or batch.errors:
                return _owntracks_not_stored(f"the card is {card.effective_status()}",
                                             f"({len(batch.fixes) + len(batch.errors)} location(s))")
            return []
        errors = dict(batch.errors)
        pings = _protocol_pings(batch.fixes, "owntracks", errors)
        if errors:
            _owntracks_not_stored(f"{len(errors)} location(s)", errors)
        if pings:
            return _store_owntracks(pings)
        service.touch(device)
        return []


# --- Traccar Client / OsmAnd ---------------------------------------------------------------

def _osmand_message() -> osmand.OsmAndMessage:
    """The report as Traccar reads it: a JSON body, else fields from the URL, the form or the raw body."""
    query_alarm = osmand.alarm_value(*request.args.getlist("alarm"))
    if request.is_json:
        return osmand.parse_json(_json_body(), alarm=query_alarm)
    params = MultiDict(request.form)
    params.update(request.args)
    raw = b"" if request.form else request.get_data(cache=True)
    if not (params.get("id") or params.get("deviceid")) and raw.lstrip().startswith(b"{"):
        return osmand.parse_json(_json_body(), alarm=query_alarm)  # JSON sent without its content type
    if not params and raw:  # fields in a body of another content type (text/plain …), as Traccar reads them
        params = MultiDict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return osmand.parse_fields(params)


def _osmand_device(osmand_id: str) -> None:
    """Admit the device by its osmand_id (Traccar Client sends no secret); 404 when unknown."""
    device = db.session.scalar(select(Device).where(Device.osmand_id == osmand_id))
    card = None
    if device is not None:
        card = db.session.get(Card, device.card_id)
    if device is None or card is None or (device.revoked_at is not None and not revoked_with_card(device, card)):
        abort(404, message="unknown device id: enroll the phone and use its osmand_id")
    g.device, g.card = device, card


@blp.route("/osmand")
class OsmAnd(MethodView):
    """Traccar Client (or OsmAnd) with the ``osmand_id`` as its device identifier."""

    @unit_of_work  # the device's last contact; each SOS is committed on its own first, pings by the writer
    def _handle(self):
        message = _osmand_message()  # OsmAndError: 422 (mobile_api.init_app)
        _osmand_device(message.osmand_id)
        device, card = current_device(), current_card()
        errors = dict(message.errors)
        alarms = [(i, fix) for i, fix in message.fixes if fix.alarm == "sos"]
        trackable = device.revoked_at is None and card.is_trackable()
        # an alarm's position is stored as a ping by the SOS itself
        plain = [(i, fix) for i, fix in message.fixes if fix.alarm != "sos"]
        pings = _protocol_pings(plain, "osmand", errors) if trackable else []
        if not alarms and not pings:
            if errors:
                abort(422, message="no usable position in the report", errors={"body": errors})
            if not trackable:
                abort(403, message=f"this card is {card.effective_status()}: nothing stored")
        result = None
        for _index, fix in alarms:
            client_id = fix.client_uuid or service.protocol_client_id(
                device_id=device.id, protocol="osmand-sos", recorded_at=fix.recorded_at)
            _raise_sos(service.SosInput(client_id=client_id, lat=fix.lat, lon=fix.lon,
                                        recorded_at=fix.recorded_at if fix.timestamp_given else None,
                                        accuracy_m=fix.accuracy_m, battery_pct=fix.battery_pct,
                                        category=None, note="SOS from Traccar Client"), "osmand")
        if pings:
            result = _store(pings, "osmand")
        elif not alarms:
            service.touch(device)
        return {"accepted": result.accepted if result else 0, "duplicates": result.duplicates if result else 0,
                "sos": bool(alarms), "rejected": errors}

    # documented, not parsed by webargs: _osmand_message parses with the same schema, and a bad field
    # never makes an SOS a 422
    @blp.doc(parameters=[{"in": "query", "schema": OsmAndQuerySchema}])
    @blp.response(200, description="Stored")
    @blp.alt_response(404, description="Unknown id")
    @blp.alt_response(422, description="No usable position (never for an SOS alarm)")
    def get(self):
        """Position report as query fields (speed in knots); ``alarm=sos`` raises an SOS."""
        return self._handle()

    @blp.doc(parameters=[{"in": "query", "schema": OsmAndQuerySchema}], requestBody={"required": False, "content": {
        "application/json": {"schema": OsmAndJsonSchema},
        "application/x-www-form-urlencoded": {"schema": OsmAndQuerySchema}}})
    @blp.response(200, description="Stored")
    @blp.alt_response(404, description="Unknown id")
    @blp.alt_response(422, description="No usable position (never for an SOS alarm)")
    def post(self):
        """Position report as query/form fields (speed in knots) or Traccar Client 9+ JSON (m/s).

        ``alarm=sos`` raises an SOS wherever it is sent: the query, the form, the JSON body's top level,
        ``location.alarm`` or ``location.extras.alarm``; a bad or missing position never drops it.
        """
        return self._handle()
