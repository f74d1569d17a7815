"""Payloads of staff sign-in, staff accounts and the audit log's API."""

from marshmallow import Schema, fields, validate

from backend.card_ids import CardId


class LoginSchema(Schema):
    """Credentials of a staff member."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class AccessTokenSchema(Schema):
    """An access token for the staff API."""

    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    role = fields.String(required=True)
    username = fields.String()
    hotel_id = fields.Integer(allow_none=True)
    operator_id = fields.Integer(allow_none=True, metadata={"description": "a marine_operator's boat operator"})


class StaffSchema(Schema):
    """A staff account as shown to itself or an admin."""

    id = fields.Integer(dump_only=True)
    username = fields.String()
    role = fields.String()
    hotel_id = fields.Integer(allow_none=True)
    operator_id = fields.Integer(allow_none=True)
    full_name = fields.String(allow_none=True)
    is_active = fields.Boolean()


class UserSchema(Schema):
    """A staff account as an admin manages it."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    role = fields.String(required=True)
    hotel_id = fields.Integer(required=True, allow_none=True)
    operator_id = fields.Integer(allow_none=True)
    active = fields.Boolean(required=True, attribute="is_active",
                            metadata={"description": "false: cannot sign in, its tokens and sockets are refused"})
    full_name = fields.String(allow_none=True)
    last_login_at = fields.AwareDateTime(allow_none=True)


class UserListSchema(Schema):
    """Every staff account."""

    items = fields.List(fields.Nested(UserSchema), required=True)


# --- the audit log, for admins (backend.auth.views.audit_blp) -------------------------------

class AuditQuerySchema(Schema):
    """Filters for the audit log."""

    card_id = CardId()
    action = fields.String(validate=validate.Length(max=60))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AuditEntrySchema(Schema):
    """One audit entry."""

    id = fields.Integer()
    at = fields.AwareDateTime()
    actor_type = fields.String()
    actor_id = fields.String(allow_none=True)
    actor_name = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    action = fields.String()
    subject_type = fields.String()
    subject_id = fields.String(allow_none=True)
    card_id = fields.String(allow_none=True)
    client_addr = fields.String(allow_none=True)
    detail = fields.Dict(allow_none=True)


class AuditListSchema(Schema):
    """A page of audit entries."""

    items = fields.List(fields.Nested(AuditEntrySchema))
