"""Companion app HTTP surface: enrollment, pings, SOS, push token, OwnTracks and OsmAnd.

Decisions worth knowing (details in the modules' docstrings):

- **Devices per card**: a card keeps up to ``MOBILE_MAX_DEVICES_PER_CARD`` (3) enrolled phones
  (our app, OwnTracks, Traccar Client, a partner's phone). Enrolling one more revokes the least
  recently seen; the enroll response lists the card's devices and the ones it revoked. The
  enrollment code stays valid while the card is (a tourist who loses a phone can enroll the next
  one); wrong codes lock a card from one address (5) and an address (30, an airport's Wi-Fi); a
  card guessed at from many addresses is only slowed, so its tourist always gets in.
- **Device tokens** are their own JWT type and audience, never expire, and are bound to the
  device row by their SHA-256: a replaced or revoked device's token is dead. Devices die with
  their card (the cards service stamps ``revoked_at``): pings, push token → 403.
- **SOS is accepted from every device of the card that was not replaced**, even when the card is
  closed, revoked or expired (safety first); its status and cancel too. A device clock that is
  far off never blocks an SOS: the server's time is used. Retries are idempotent by the SOS's
  client id; SOS handling is serialized per card (row lock on PostgreSQL, the write lock on
  SQLite) and committed before the reply.
- **Pings** are validated one by one; a batch with no valid ping is 422 (nothing stored). Device
  times before the card's issue day or more than ``MOBILE_CLOCK_SKEW_S`` (600 s) ahead are refused.
  Valid pings of every protocol are stored by the process's group-commit writer
  (``backend/tracking/writer.py``): requests that arrive together share one transaction, and each
  is answered only after it committed (503 with ``Retry-After`` if the database cannot take them
  within a minute; the app re-sends, idempotently).
- **OwnTracks / Traccar Client** send no client ids: a ping's id is a UUIDv5 of the device and the
  fix time (or the SDK's own ``uuid``), so their re-sends are idempotent too.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the mobile API blueprint and its errors, its Basic-auth scheme (OwnTracks) and ``flask simulate``."""
    from backend.extensions import api
    from backend.tracking.service import CardNotTrackable
    from backend.tracking.writer import DeviceRefused, WriterBusy
    from backend.web.transactions import retry_after, translate
    from mobile_api.osmand import OsmAndError
    from mobile_api.service import CannotCancel, CardNotEnrollable, EnrollmentRefused, EnrollmentThrottled
    from mobile_api.simulator import simulate_command
    from mobile_api.views import blp, retry_later
    from notifications.webpush import SubscriptionRefused, SubscriptionTaken

    translate(app, EnrollmentThrottled, 429, blueprint=blp, headers=retry_after)
    translate(app, EnrollmentRefused, 401, blueprint=blp)
    translate(app, CardNotEnrollable, 403, blueprint=blp)
    translate(app, CannotCancel, 409, blueprint=blp)
    translate(app, SubscriptionRefused, 422, blueprint=blp, errors=lambda exc: {"json": exc.errors})
    translate(app, SubscriptionTaken, 409, blueprint=blp)
    # storing pings (the app's, Traccar Client's; OwnTracks answers refusals in its own protocol)
    translate(app, DeviceRefused, 401, blueprint=blp, message="missing or invalid device token",
              headers=lambda _: {"WWW-Authenticate": 'Bearer realm="device"'})
    translate(app, CardNotTrackable, 403, blueprint=blp)
    translate(app, WriterBusy, 503, blueprint=blp, headers=retry_later)
    translate(app, OsmAndError, 422, blueprint=blp, message="not an OsmAnd position report",
              errors=lambda exc: {"body": exc.errors})

    api.security_scheme(
        "ownTracksBasic", {"type": "http", "scheme": "basic",
                           "description": "OwnTracks HTTP mode: user name = device_id, password = device_token"})
    api.register_blueprint(blp)
    app.cli.add_command(simulate_command)
    __import__("mobile_api.webapp", fromlist=["init_app"]).init_app(app)  # the companion web app at /app
