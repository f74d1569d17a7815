"""Recording and reading the audit log; every domain calls :func:`record`."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.extensions import db


def record(action: str, *, subject_type: str, subject_id: str | int | None = None,
           card_id: str | None = None, detail: dict[str, Any] | None = None,
           actor_type: str | None = None, actor_id: str | None = None) -> AuditEntry:
    """Add an audit entry in the current transaction (the caller commits with its change).

    The actor (staff member or device) and the client address come from the request when
    there is one; jobs and CLI commands are recorded as ``system``.
    """
    staff = getattr(g, "staff", None) if has_request_context() else None
    device = getattr(g, "device", None) if has_request_context() else None
    entry = AuditEntry(
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        card_id=card_id,
        detail=detail,
    )
    if staff is not None:
        entry.actor_type, entry.actor_id = "staff", str(staff.id)
        entry.actor_name, entry.actor_role = staff.username, staff.role
    elif device is not None:
        entry.actor_type, entry.actor_id = "device", str(device.id)
    else:
        entry.actor_type = actor_type or "system"
        entry.actor_id = actor_id
    if actor_type:
        entry.actor_type = actor_type
    if has_request_context():
        entry.client_addr = request.remote_addr
        entry.user_agent = (request.user_agent.string or "")[:300] or None
    db.session.add(entry)
    return entry


def entries(*, card_id: str | None = None, action: str | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest audit entries, optionally for one card or one action."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if card_id:
        query = query.where(AuditEntry.card_id == card_id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))
