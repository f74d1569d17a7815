"""A broadcast as an OASIS Common Alerting Protocol 1.2 alert (CAP-v1.2, ITU-T X.1303).

Follows the schema's rules that matter to consumers: element order, the enumerations,
``dateTime`` values with an explicit offset and no fractional seconds (``2026-05-01T14:00:00+07:00``;
``Z`` is not allowed), one ``info`` per language, and ``polygon`` as space-separated
``lat,lon`` pairs (WGS 84, note the order: the reverse of GeoJSON) whose first pair equals
the last.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse
from xml.etree import ElementTree as ET

from notifications import broadcasts, messages
from notifications.models import Broadcast

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER_NAME = "Phuket 191 Emergency Center (Phuket Tourist Safety)"
CONTACT = "191 (emergency), 1155 (Tourist Police)"


def cap_datetime(moment: datetime) -> str:
    """A CAP dateTime: Thailand time with its offset, whole seconds (``2026-05-01T14:00:00+07:00``)."""
    return moment.astimezone(messages.THAILAND).replace(microsecond=0).isoformat()


def sender_for(issuer: str) -> str:
    """The CAP ``sender`` (globally unique, no spaces, commas, ``<`` or ``&``) from the issuer URL."""
    host = urlparse(issuer).hostname or issuer
    return "".join(ch for ch in host if not ch.isspace() and ch not in ",<&") or "safety.phuket.go.th"


def polygon_text(ring_coords: list[tuple[float, ...]]) -> str:
    """A CAP polygon from a closed ring of (lon, lat) positions: ``"lat,lon lat,lon …"``, first = last."""
    pairs = [f"{lat:.6f},{lon:.6f}" for lon, lat, *_ in ring_coords]
    if pairs[0] != pairs[-1]:
        pairs.append(pairs[0])
    return " ".join(pairs)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def build_alert(broadcast: Broadcast, *, sender: str, web: str | None = None) -> bytes:
    """The CAP 1.2 XML document (UTF-8, with declaration) of ``broadcast``."""
    ET.register_namespace("", CAP_NS)
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(alert, "identifier", broadcast.identifier)
    _sub(alert, "sender", sender)
    _sub(alert, "sent", cap_datetime(broadcast.created_at))
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", "Alert")
    _sub(alert, "scope", "Public")
    if broadcast.cancelled_at is not None:
        _sub(alert, "note", f"Cancelled by the 191 center at {cap_datetime(broadcast.cancelled_at)}")
    polygons = [polygon_text(list(p.exterior.coords)) for p in broadcasts.area_polygons(broadcast)]
    for lang, text in broadcasts.texts(broadcast).items():
        info = _sub(alert, "info")
        _sub(info, "language", lang)
        _sub(info, "category", broadcast.category)
        _sub(info, "event", broadcast.event)
        _sub(info, "urgency", broadcast.urgency)
        _sub(info, "severity", broadcast.severity)
        _sub(info, "certainty", broadcast.certainty)
        _sub(info, "effective", cap_datetime(broadcast.created_at))
        if broadcast.expires_at is not None:
            _sub(info, "expires", cap_datetime(broadcast.expires_at))
        _sub(info, "senderName", SENDER_NAME)
        _sub(info, "headline", text["headline"])
        _sub(info, "description", text["message"])
        if text.get("instruction"):
            _sub(info, "instruction", text["instruction"])
        if web:
            _sub(info, "web", web)
        _sub(info, "contact", CONTACT)
        area = _sub(info, "area")
        _sub(area, "areaDesc", broadcast.area_desc or "Phuket")
        for polygon in polygons:
            _sub(area, "polygon", polygon)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)
