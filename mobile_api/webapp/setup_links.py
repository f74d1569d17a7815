"""One-tap set-up of Traccar Client and OwnTracks as a card's background tracker.

A web app cannot send positions while the phone is locked or the page is closed; these two
open-source apps can. Each link below carries this server's address and the card's device
credentials in the format the app itself reads:

- Traccar Client (``org.traccar.client`` custom scheme, read by its ``ConfigurationService``):
  any host but ``action``; query ``url`` (where it sends positions: our OsmAnd endpoint),
  ``id`` (the device identifier: the enrollment's ``osmand_id``), ``interval`` and
  ``heartbeat`` (seconds), ``accuracy`` (``highest|high|medium|low``), ``buffer`` and
  ``service`` (``true`` starts tracking once the tourist confirms the dialog).
- OwnTracks (the booklet's remote configuration): ``owntracks:///config?inline=`` followed by
  the base64 of a ``_type: configuration`` message; ``mode`` 3 is private HTTP, ``url`` the
  endpoint it POSTs to, ``auth`` with ``username`` = device id and ``password`` = device token
  (HTTP Basic, as our OwnTracks endpoint expects).
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from typing import Any
from urllib.parse import quote, urlencode

from flask import current_app, request

from backend.cards import qr
from backend.cards.models import Card
from backend.tracking.models import Device

OSMAND_PATH = "/api/v1/mobile/osmand"
OWNTRACKS_PATH = "/api/v1/mobile/owntracks"
TRACCAR_SCHEME = "org.traccar.client"
OWNTRACKS_MODE_HTTP = 3
OWNTRACKS_MONITORING_SIGNIFICANT = 1


def public_base_url() -> str:
    """The address phones reach this server at: ``PUBLIC_BASE_URL``, else the request's host."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    return (configured or request.host_url).rstrip("/")


def traccar_client_link(*, base_url: str, osmand_id: str, interval_s: int) -> str:
    """The ``org.traccar.client://`` link that configures Traccar Client for this device."""
    params = {
        "url": base_url + OSMAND_PATH,
        "id": osmand_id,
        "interval": str(interval_s),
        # a stationary tourist must still report now and then, or the server raises "overdue"
        "heartbeat": str(max(interval_s, 60)),
        "accuracy": "high",
        "buffer": "true",
        "service": "true",
    }
    return f"{TRACCAR_SCHEME}://config?{urlencode(params, quote_via=quote)}"


def tracker_id(full_name: str) -> str:
    """OwnTracks' two-character tracker id: the holder's initials (``AS`` for Anna Schmidt)."""
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    initials = "".join(word[0] for word in re.findall(r"[A-Za-z]+", ascii_name))
    return (initials[:1] + initials[-1:]).upper() if len(initials) >= 2 else (initials.upper() + "PT")[:2]


def owntracks_configuration(*, base_url: str, device_id: str, device_token: str, interval_s: int,
                            full_name: str) -> dict[str, Any]:
    """The OwnTracks ``_type: configuration`` message: HTTP mode to our endpoint, Basic auth."""
    return {
        "_type": "configuration",
        "mode": OWNTRACKS_MODE_HTTP,
        "url": base_url + OWNTRACKS_PATH,
        "auth": True,
        "username": device_id,
        "password": device_token,
        "deviceId": device_id,
        "tid": tracker_id(full_name),
        "monitoring": OWNTRACKS_MONITORING_SIGNIFICANT,
        "locatorInterval": interval_s,
        "extendedData": True,
        "cmd": False,
    }


def owntracks_link(configuration: dict[str, Any]) -> str:
    """The ``owntracks:///config?inline=`` link carrying ``configuration`` as base64 JSON."""
    encoded = base64.b64encode(json.dumps(configuration, separators=(",", ":")).encode()).decode()
    return f"owntracks:///config?inline={quote(encoded, safe='')}"


def qr_png_data_uri(text: str) -> str:
    """A QR code of ``text`` as a ``data:image/png;base64,…`` URI (shown and scanned in the page)."""
    return "data:image/png;base64," + base64.b64encode(qr.png(text, box_size=6)).decode()


def setup_links(*, device: Device, card: Card, device_token: str, base_url: str, interval_s: int) -> dict[str, Any]:
    """Both apps' set-up links, QR codes and the values to type by hand, for ``device``."""
    traccar = traccar_client_link(base_url=base_url, osmand_id=device.osmand_id, interval_s=interval_s)
    configuration = owntracks_configuration(base_url=base_url, device_id=device.id, device_token=device_token,
                                            interval_s=interval_s, full_name=card.tourist.full_name)
    owntracks = owntracks_link(configuration)
    return {
        "card_id": card.id,
        "server_url": base_url,
        "traccar_client": {
            "link": traccar,
            "qr_png": qr_png_data_uri(traccar),
            "server_url": base_url + OSMAND_PATH,
            "device_identifier": device.osmand_id,
            "interval_s": interval_s,
        },
        "owntracks": {
            "link": owntracks,
            "qr_png": qr_png_data_uri(owntracks),
            "configuration": configuration,
            "url": configuration["url"],
            "username": device.id,
        },
    }
