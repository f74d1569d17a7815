"""Staff sign-in, the admin's staff accounts, and the admin's reading of the audit log.

The audit log's API lives here, not in ``backend.audit``: it needs staff authentication, while
the log itself (``backend.audit``: the entries and ``record``) sits below every domain, auth
included, since every domain (sign-in too) writes entries.
"""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from werkzeug.exceptions import Unauthorized

from backend.audit import service as audit
from backend.auth import service
from backend.auth.decorators import current_staff, staff_required
from backend.auth.models import Role, User
from backend.auth.schemas import (
    AccessTokenSchema,
    AuditListSchema,
    AuditQuerySchema,
    LoginSchema,
    StaffSchema,
    UserListSchema,
    UserSchema,
)
from backend.web.transactions import unit_of_work

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff sign-in")
users_blp = Blueprint("users", __name__, url_prefix="/api/v1/users",
                      description="Staff accounts (admin): list, deactivate, activate")
audit_blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit log (admin)")


@blp.route("/login")
class Login(MethodView):
    """Exchange a username and password for a short-lived access token."""

    @blp.arguments(LoginSchema)
    @blp.response(200, AccessTokenSchema)
    @blp.alt_response(401, description="Wrong credentials")
    @blp.alt_response(429, description="Too many failed attempts")
    @unit_of_work(keep_on=(service.LoginThrottled, Unauthorized))  # a refusal keeps its failure count and audit
    def post(self, body: dict):
        """Sign in a staff member."""
        grant = service.login(username=body["username"], password=body["password"],
                              client_addr=request.remote_addr)
        if grant is None:
            abort(401, message="wrong username or password")
        return {
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "expires_in": grant.expires_in,
            "role": grant.role,
            "username": grant.user.username,
            "hotel_id": grant.user.hotel_id,
            "operator_id": grant.user.operator_id,
        }


@blp.route("/me")
class Me(MethodView):
    """The signed-in staff member."""

    @staff_required()
    @blp.response(200, StaffSchema)
    def get(self):
        """Who am I."""
        return current_staff()


# --- staff accounts (admin) -------------------------------------------------------------------

@users_blp.route("")
class Users(MethodView):
    """Every staff account."""

    @staff_required(Role.ADMIN)
    @users_blp.response(200, UserListSchema)
    def get(self):
        """The staff accounts, by username (admin)."""
        return {"items": service.list_users()}


def _set_active(user_id: int, *, active: bool) -> User:
    user = service.get_user(user_id=user_id)
    if user is None:
        abort(404, message="no such user")
    service.set_active(user, active=active)
    return user


@users_blp.route("/<int:user_id>/deactivate")
class DeactivateUser(MethodView):
    """Take a staff member's access away."""

    @staff_required(Role.ADMIN)
    @users_blp.response(200, UserSchema)
    @users_blp.alt_response(404, description="No such user")
    @unit_of_work
    def post(self, user_id: int):
        """Deactivate an account (admin): it cannot sign in, its tokens stop working at once and its
        open sockets are closed within seconds, on every server process."""
        return _set_active(user_id, active=False)


@users_blp.route("/<int:user_id>/activate")
class ActivateUser(MethodView):
    """Give a deactivated staff member their access back."""

    @staff_required(Role.ADMIN)
    @users_blp.response(200, UserSchema)
    @users_blp.alt_response(404, description="No such user")
    @unit_of_work
    def post(self, user_id: int):
        """Activate an account again (admin); the tokens issued before its deactivation stay refused."""
        return _set_active(user_id, active=True)


@audit_blp.route("")
class AuditLog(MethodView):
    """Read the audit log."""

    @staff_required(Role.ADMIN)
    @audit_blp.arguments(AuditQuerySchema, location="query")
    @audit_blp.response(200, AuditListSchema)
    def get(self, query: dict):
        """The newest audit entries."""
        return {"items": audit.entries(**query)}
