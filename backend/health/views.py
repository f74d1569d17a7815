"""``GET /healthz``: 200 when the database answers, else 503."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

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
    @blp.alt_response(503, schema=HealthSchema, description="The database does not answer")
    def get(self):
        """Check that the database answers."""
        dialect = db.engine.dialect.name
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            db.session.rollback()
            return {"status": "unavailable", "database": dialect}, 503
        return {"status": "ok", "database": dialect}
