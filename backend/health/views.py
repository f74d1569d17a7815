"""``GET /healthz``: 200 when the database answers, else 503 — within 2 s, whatever the database does."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from backend.availability import database_answers
from backend.extensions import db

blp = Blueprint("health", __name__, description="Health")


class HealthSchema(Schema):
    """Service health."""

    status = fields.String(required=True, metadata={"example": "ok"})
    database = fields.String(required=True)


@blp.route("/healthz")
class Health(MethodView):
    """Health check for load balancers and operators."""

    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database does not answer within 1.5 s")
    def get(self):
        """Check that the database answers (the answer comes within 2 s, even when it does not)."""
        dialect = db.engine.dialect.name
        if not database_answers(current_app._get_current_object()):  # type: ignore[attr-defined]
            return {"status": "unavailable", "database": dialect}, 503
        return {"status": "ok", "database": dialect}
