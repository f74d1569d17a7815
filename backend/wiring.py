"""Who hears what, and who answers dispatch's reads: every signal of :mod:`backend.signals` and
its receivers, and every source of :mod:`backend.dispatch.sources` and its provider, in one place.

Called once by ``create_app``. Connecting is idempotent (the same receiver function is connected
once however many apps a process builds, as in the test suite), and receivers are held strongly;
the sources are the app's (``app.extensions``).

====================================  =====================================================
signal (sent by)                       receivers
====================================  =====================================================
incident_event                         notifications.outbox.notify_incident_event — the
(dispatch.service, in transaction)     tourist's push message, queued in the same transaction
incident_events_committed              notifications.realtime.emit_incident_events — this
(dispatch.service, after commit)       process's dispatchers at once, the others via Redis
zone_mutes_committed                   backend.dispatch.events.emit_zone_mutes — ``zone_mute``
(dispatch.mutes, after commit)         to every dispatcher of every process
dispatch_console_connected             notifications.realtime.start_relay — relay committed
(dispatch.events, on connect)          events to this process's consoles (once per process)
outbox_queued                          notifications.outbox.deliver_soon — the scheduler
(notifications.outbox, after commit)   pushes at once, not at its next pass
zone_deleting                          backend.tracking.service.forget_zone — latest positions
(geo.service, in transaction)          no longer point at the deleted danger zone
card_tracking_ended                    backend.tracking.service.revoke_card_devices — the
(cards.service, in transaction)        card's devices are revoked with it (PDPA)
marine_announced                       backend.marine.events.emit_announcements — ``trip``
(marine.events, after commit)          and ``marine_warning`` to every console
positions_recorded                     backend.marine.service.feed_trips — passengers aboard
(tracking.service, in transaction)     a trip at sea move its last position (one query/group)
====================================  =====================================================

Dispatch sits below the domains that raise incidents (tracking, hotels, marine) and reads their
rows through typed sources, each provided by the domain that owns them:

====================================  =====================================================
source of backend.dispatch.sources     provider (read by)
====================================  =====================================================
positions                              backend.tracking.positions — the map's viewport and
                                       feed, a card's track, an incident's track and last
                                       position (dispatch.positions, timeline, service)
stays                                  backend.hotels.service.current_stay — the incident
                                       detail's hotel stay (dispatch.service)
trips                                  backend.marine.service — a boat incident's trip and
                                       manifest, ``q`` by vessel or by who is aboard
                                       (dispatch.schemas, dispatch.search)
====================================  =====================================================
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Connect every receiver to its signal, install the after-commit session hooks, provide dispatch's sources."""
    from backend import signals
    from backend.dispatch import events as dispatch_events
    from backend.dispatch import sources
    from backend.hotels import service as hotels
    from backend.marine import events as marine_events
    from backend.marine import service as marine
    from backend.tracking import positions
    from backend.tracking import service as tracking
    from notifications import outbox, realtime

    signals.install_session_hooks()
    signals.incident_event.connect(outbox.notify_incident_event, weak=False)
    signals.outbox_queued.connect(outbox.deliver_soon, weak=False)
    signals.incident_events_committed.connect(realtime.emit_incident_events, weak=False)
    signals.zone_mutes_committed.connect(dispatch_events.emit_zone_mutes, weak=False)
    signals.dispatch_console_connected.connect(realtime.start_relay, weak=False)
    signals.zone_deleting.connect(tracking.forget_zone, weak=False)
    signals.card_tracking_ended.connect(tracking.revoke_card_devices, weak=False)
    signals.positions_recorded.connect(marine.feed_trips, weak=False)
    signals.marine_announced.connect(marine_events.emit_announcements, weak=False)

    sources.provide(app, sources.Sources(positions=positions, stays=hotels, trips=marine))
