"""Audit log payloads."""

from marshmallow import Schema, fields, validate

from backend.card_ids import CardId


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
