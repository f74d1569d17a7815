"""The tourist's companion web app (an installable PWA) at ``/app``.

Pages and assets (``/app``, its manifest, service worker, icons, scripts and translations)
are served by the :data:`views.companion` blueprint; the device-authenticated
``GET /api/v1/mobile/setup-links`` (one-tap set-up of Traccar Client and OwnTracks) is a
flask-smorest blueprint so it is validated and documented like every other API route.
"""

from __future__ import annotations

from flask import Flask

from backend.extensions import api


def init_app(app: Flask) -> None:
    """Register the companion web app and its set-up links endpoint."""
    from mobile_api.webapp import setup_views, views

    app.register_blueprint(views.companion)
    api.register_blueprint(setup_views.blp)
