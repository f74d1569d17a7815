"""Hotels API (SHA Plus managers and admins) and the hotel manager's page ``/hotel``.

Access: an admin may do everything; a ``hotel_manager`` only what concerns their own hotel.
A manager asking about any other hotel id gets ``403`` whether that hotel exists or not, so
hotel ids cannot be probed; an admin gets ``404`` for an unknown hotel.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint as FlaskBlueprint
from flask import g, jsonify, render_template
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from backend.auth.decorators import current_staff, staff_required
from backend.auth.models import Role
from backend.cards.presented import CardRefused, CardThrottled, refusal_message
from backend.hotels import service
from backend.hotels.models import Hotel
from backend.hotels.schemas import (
    CardCheckSchema,
    CardRefusalSchema,
    CardScanSchema,
    CheckinInputSchema,
    CheckinSchema,
    GuestListSchema,
    HotelInputSchema,
    HotelListSchema,
    HotelSchema,
    ManagerInputSchema,
    ManagerListSchema,
    ManagerSchema,
    StaySchema,
)
from backend.models_base import utcnow
from backend.web.transactions import unit_of_work

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint("hotels", __name__, url_prefix="/api/v1/hotels",
                description="Hotels (SHA Plus): check-in by card scan, guests' safety status, check-out")
page = FlaskBlueprint("hotels_page", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static/hotels")


def hotel_access(func: F) -> F:
    """Load ``hotel_id`` for an admin or that hotel's own manager (403 for anyone else).

    Goes below ``staff_required`` and above ``@blp.arguments``: access is decided before the
    body is even read, so another hotel's manager learns nothing from validation errors.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        staff = current_staff()
        hotel_id = kwargs["hotel_id"]
        if staff.role != Role.ADMIN and staff.hotel_id != hotel_id:
            abort(403, message="you may only manage your own hotel")
        hotel = service.get_hotel(hotel_id)
        if hotel is None:
            abort(404, message="no such hotel")
        g.hotel = hotel
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_hotel() -> Hotel:
    """The hotel of this request (inside a ``hotel_access`` view)."""
    return g.hotel


def _hotel_or_404(hotel_id: int) -> Hotel:
    hotel = service.get_hotel(hotel_id)
    if hotel is None:
        abort(404, message="no such hotel")
    return hotel


def card_refused(exc: CardRefused):  # noqa: ANN201
    """The contract's 422 for a refused check-in, with the reason code and the manager's message
    (registered for this blueprint in hotels.init_app).

    The errors name the fields of the way the card came: its scanned token, or (without a camera)
    the card id with the passport number.
    """
    fields = ("card_token",) if exc.field == "card_token" else ("card_id", "passport_number")
    body = {"code": 422, "status": "Unprocessable Entity", "message": exc.message, "reason": exc.reason,
            "errors": {name: [f"{exc.reason}: {exc.message}"] for name in fields}}
    return jsonify(CardRefusalSchema().dump(body)), 422


# --- hotels (admin) -------------------------------------------------------------------------

@blp.route("")
class Hotels(MethodView):
    """Register and list hotels."""

    @staff_required(Role.HOTEL_MANAGER)
    @blp.response(200, HotelListSchema)
    def get(self):
        """All hotels (admin); a manager sees only their own."""
        staff = current_staff()
        if staff.role == Role.ADMIN:
            return {"items": service.list_hotels()}
        return {"items": service.list_hotels(hotel_id=staff.hotel_id)}

    @staff_required(Role.ADMIN)
    @blp.arguments(HotelInputSchema)
    @blp.response(201, HotelSchema)
    @unit_of_work
    def post(self, body: dict):
        """Register a hotel (admin)."""
        hotel = service.create_hotel(**body)
        return hotel


@blp.route("/<int:hotel_id>")
class HotelById(MethodView):
    """One hotel."""

    @staff_required(Role.HOTEL_MANAGER)
    @hotel_access
    @blp.response(200, HotelSchema)
    def get(self, hotel_id: int):
        """The hotel, with the number of guests in house (admin, or its manager)."""
        hotel = current_hotel()
        details = {name: getattr(hotel, name) for name in HotelSchema().fields if name != "guests_in_house"}
        return {**details, "guests_in_house": service.guests_in_house(hotel=hotel)}

    @staff_required(Role.ADMIN)
    @blp.arguments(HotelInputSchema)
    @blp.response(200, HotelSchema)
    @unit_of_work
    def put(self, body: dict, hotel_id: int):
        """Replace the hotel's details (admin)."""
        hotel = service.update_hotel(hotel=_hotel_or_404(hotel_id), **body)
        return hotel


# --- managers (admin) -----------------------------------------------------------------------

@blp.route("/<int:hotel_id>/managers")
class Managers(MethodView):
    """The hotel's manager accounts."""

    @staff_required(Role.ADMIN)
    @blp.response(200, ManagerListSchema)
    def get(self, hotel_id: int):
        """The hotel's managers (admin)."""
        return {"items": service.managers(hotel=_hotel_or_404(hotel_id))}

    @staff_required(Role.ADMIN)
    @blp.arguments(ManagerInputSchema)
    @blp.response(201, ManagerSchema)
    @blp.alt_response(409, description="The username is taken")
    @unit_of_work
    def post(self, body: dict, hotel_id: int):
        """Create a manager account bound to the hotel (admin)."""
        return service.create_manager(hotel=_hotel_or_404(hotel_id), **body)


@unit_of_work
def _set_active(hotel_id: int, user_id: int, *, active: bool):
    user = service.set_manager_active(hotel=_hotel_or_404(hotel_id), user_id=user_id, active=active)
    if user is None:
        abort(404, message="no such manager at this hotel")
    return user


@blp.route("/<int:hotel_id>/managers/<int:user_id>/deactivate")
class DeactivateManager(MethodView):
    """Take a manager's access away."""

    @staff_required(Role.ADMIN)
    @blp.response(200, ManagerSchema)
    def post(self, hotel_id: int, user_id: int):
        """Deactivate a manager (admin); their tokens stop working at once."""
        return _set_active(hotel_id, user_id, active=False)


@blp.route("/<int:hotel_id>/managers/<int:user_id>/activate")
class ActivateManager(MethodView):
    """Give a deactivated manager their access back."""

    @staff_required(Role.ADMIN)
    @blp.response(200, ManagerSchema)
    def post(self, hotel_id: int, user_id: int):
        """Reactivate a manager (admin)."""
        return _set_active(hotel_id, user_id, active=True)


# --- check-in, guests, check-out (the hotel's manager, or admin) ----------------------------

@blp.route("/<int:hotel_id>/checkins/verify")
class VerifyCard(MethodView):
    """Check a scanned card before checking its holder in."""

    @staff_required(Role.HOTEL_MANAGER)
    @hotel_access
    @blp.arguments(CardScanSchema)
    @blp.response(200, CardCheckSchema)
    @unit_of_work
    def post(self, body: dict, hotel_id: int):
        """Verify the card (signature, key, type, expiry, revocation, closure); changes nothing but the audit log."""
        check = service.verify_for_hotel(hotel=current_hotel(), card_token=body["card_token"],
                                         card_id=body.get("card_id"))
        return {"valid": check.valid, "reason": check.reason,
                "message": refusal_message(check.reason) if check.reason else None,
                "card": check.card, "stay": check.stay, "staying_elsewhere": check.staying_elsewhere}


@blp.route("/<int:hotel_id>/checkins")
class Checkins(MethodView):
    """Check a guest in by their card."""

    @staff_required(Role.HOTEL_MANAGER)
    @hotel_access
    @blp.arguments(CheckinInputSchema)
    @blp.response(201, CheckinSchema, description="Checked in")
    @blp.alt_response(200, schema=CheckinSchema,
                      description="The card was already checked in here: its stay (room updated if given)")
    @blp.alt_response(422, schema=CardRefusalSchema,
                      description="The card is refused (`reason` says why), or the body is invalid (`errors`)")
    @blp.alt_response(409, description="The same card was checked in elsewhere at the same moment; retry")
    @blp.alt_response(429, description="Too many card id + passport number pairs that did not belong together "
                                       "(`Retry-After` says when to try again)")
    @unit_of_work(keep_on=(CardRefused, CardThrottled))  # a refusal keeps its audit entry and failure count
    def post(self, body: dict, hotel_id: int):
        """Check a guest in by the scanned card, or without a camera by card id + passport number.

        A stay at another hotel ends (one open stay per card). A card id and passport number that
        do not belong together are refused (`reason` `passport_mismatch`) and counted like a wrong
        password: after `CHECKIN_MAX_FAILURES` (5) for one card, or `CHECKIN_MAX_FAILURES_PER_MANAGER`
        (20) for one manager account, that manager gets `429` for `CHECKIN_LOCKOUT_S` (300 s).
        """
        hotel = current_hotel()
        if body.get("card_token") is None:
            result = service.check_in_by_passport(hotel=hotel, card_id=body["card_id"],
                                                  passport_number=body["passport_number"],
                                                  room=body.get("room"), by=current_staff())
        else:
            result = service.check_in(hotel=hotel, card_token=body["card_token"], room=body.get("room"),
                                      card_id=body.get("card_id"), by=current_staff())
        tourist = result.card.tourist
        payload = {"stay_id": result.stay.id, "card_id": result.card.id, "full_name": tourist.full_name,
                   "latin_name": tourist.latin_name, "nationality": tourist.nationality,
                   "stay_until": result.card.stay_until, "checked_in_at": result.stay.checked_in_at,
                   "room": result.stay.room, "hotel_id": hotel.id,
                   "previous_stay_ended": result.ended_elsewhere is not None}
        return payload, (201 if result.created else 200)


@blp.route("/<int:hotel_id>/guests")
class Guests(MethodView):
    """The hotel's guests in house and their safety status."""

    @staff_required(Role.HOTEL_MANAGER)
    @hotel_access
    @blp.response(200, GuestListSchema)
    @unit_of_work  # the audit entry of the read
    def get(self, hotel_id: int):
        """Guests in house, most serious status first: status, last contact, open incidents (never positions)."""
        now = utcnow()
        items = service.guests(hotel=current_hotel(), now=now)
        return {"items": items, "counts": service.status_counts(items), "generated_at": now}


@blp.route("/<int:hotel_id>/stays/<int:stay_id>/checkout")
class Checkout(MethodView):
    """Check a guest out."""

    @staff_required(Role.HOTEL_MANAGER)
    @hotel_access
    @blp.response(200, StaySchema)
    @unit_of_work
    def post(self, hotel_id: int, stay_id: int):
        """Check the guest out; repeating it returns the ended stay unchanged."""
        stay = service.check_out(hotel=current_hotel(), stay_id=stay_id, by=current_staff())
        if stay is None:
            abort(404, message="no such stay at this hotel")
        return stay


# --- the manager's page ---------------------------------------------------------------------

# The Content-Security-Policy and the other security headers are set for every page by backend.web.security.
PAGE_HEADERS = {"Cache-Control": "no-store"}


@page.get("/hotel")
def hotel_page():
    """The hotel manager's page: sign in, scan a card, check guests in and out, watch their status."""
    return render_template("hotels/hotel.html"), 200, PAGE_HEADERS
