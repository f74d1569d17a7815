"""Realtime fan-out to the 191 center: committed incident events to every connected dispatcher.

Registered with :func:`backend.dispatch.service.on_committed_events`, so it runs only after a
transaction that stored incident events has committed. ``socketio.emit`` goes through the
message queue when ``SOCKETIO_MESSAGE_QUEUE`` is set, so an event raised in any process (a web
worker, ``flask sweep``, a background worker) reaches the dispatchers connected to every
Socket.IO server. Without a queue it reaches the dispatchers of this process only, which is
the single-process embedded deployment.
"""

from __future__ import annotations

import logging
from typing import Any

from backend.extensions import socketio

log = logging.getLogger(__name__)

NAMESPACE = "/dispatch"
DISPATCHERS_ROOM = "dispatchers"


def emit_incident_events(payloads: list[dict[str, Any]]) -> None:
    """Emit each committed event (the incident representation plus ``seq``) as ``incident``, in order."""
    if socketio.server is None:  # socketio not bound to an app (nothing can be connected)
        return
    for payload in payloads:
        socketio.emit("incident", payload, namespace=NAMESPACE, to=DISPATCHERS_ROOM)


def register() -> None:
    """Hook the emitter into the incident service (idempotent)."""
    from backend.dispatch.service import on_committed_events

    on_committed_events(emit_incident_events)
