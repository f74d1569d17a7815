"""The audit log, for admins."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.audit import service
from backend.audit.schemas import AuditListSchema, AuditQuerySchema
from backend.auth.decorators import staff_required
from backend.auth.models import Role

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit log (admin)")


@blp.route("")
class AuditLog(MethodView):
    """Read the audit log."""

    @staff_required(Role.ADMIN)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditListSchema)
    def get(self, query: dict):
        """The newest audit entries."""
        return {"items": service.entries(**query)}
