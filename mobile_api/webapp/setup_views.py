"""The companion web app's own device API: its card's app settings and background-tracking set-up links."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.auth.decorators import bearer_token
from backend.tracking.devices import current_card, current_device, device_required
from mobile_api.webapp import setup_links
from mobile_api.webapp.schemas import CompanionConfigSchema, SetupLinksSchema

blp = Blueprint("companion_setup", __name__, url_prefix="/api/v1/mobile",
                description="Companion web app: one-tap set-up of Traccar Client and OwnTracks")


@blp.route("/setup-links")
class SetupLinks(MethodView):
    """Background-tracking set-up links for this device's card."""

    @device_required
    @blp.response(200, SetupLinksSchema)
    def get(self):
        """Configuration links and QR codes that make Traccar Client or OwnTracks report for this card.

        They carry the device's own credentials, so the reply is never cached. A device whose
        card has ended gets 403: there is nothing left to track.
        """
        links = setup_links.setup_links(
            device=current_device(), card=current_card(), device_token=bearer_token() or "",
            base_url=setup_links.public_base_url(), interval_s=current_app.config["PING_INTERVAL_S"])
        return links, 200, {"Cache-Control": "no-store"}


@blp.route("/app-config")
class CompanionConfig(MethodView):
    """The companion app's settings for this device's card."""

    @device_required(allow_ended_card=True)
    @blp.response(200, CompanionConfigSchema)
    def get(self):
        """The card holder's language (the app's default), the ping interval and the server's address."""
        card = current_card()
        return {"card_id": card.id, "language": card.tourist.language or "en",
                "ping_interval_s": current_app.config["PING_INTERVAL_S"],
                "server_url": setup_links.public_base_url()}
