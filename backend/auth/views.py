"""Staff sign-in endpoints."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from backend.auth import service
from backend.auth.decorators import current_staff, staff_required
from backend.auth.schemas import AccessTokenSchema, LoginSchema, StaffSchema
from backend.extensions import db

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff sign-in")


@blp.route("/login")
class Login(MethodView):
    """Exchange a username and password for a short-lived access token."""

    @blp.arguments(LoginSchema)
    @blp.response(200, AccessTokenSchema)
    @blp.alt_response(401, description="Wrong credentials")
    @blp.alt_response(429, description="Too many failed attempts")
    def post(self, body: dict):
        """Sign in a staff member."""
        try:
            grant = service.login(username=body["username"], password=body["password"],
                                  client_addr=request.remote_addr)
        except service.LoginThrottled as exc:
            db.session.commit()
            abort(429, message=str(exc), headers={"Retry-After": str(exc.retry_after)})
        db.session.commit()
        if grant is None:
            abort(401, message="wrong username or password")
        return {
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "expires_in": grant.expires_in,
            "role": grant.role,
            "username": grant.user.username,
            "hotel_id": grant.user.hotel_id,
        }


@blp.route("/me")
class Me(MethodView):
    """The signed-in staff member."""

    @staff_required()
    @blp.response(200, StaffSchema)
    def get(self):
        """Who am I."""
        return current_staff()
