"""Security headers for every response, set in this one place.

Every page (the 191 console, the hotel desk, the checkpoint and the printable card, the companion
app and its service worker) runs under the same Content-Security-Policy: scripts and styles only
from this origin (``/static/…``, ``/app/static/…``, ``/vendor/…``), never inline, so text from the
data that ever reached the DOM as markup still could not run. Map tiles come from ``TILE_URL``
(images only); the live feed is Socket.IO on this origin (``ws:``/``wss:`` of this host).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

# Pages that use the camera (card scanning) and the phone's position; every other page gets neither.
CAMERA_AND_LOCATION_PAGES = ("/app", "/hotel", "/checkpoint", "/marine")
# A Host header that is safe to repeat in the policy: a name or an IP literal, with a port.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
# A tile server's host, possibly with a Leaflet subdomain placeholder: "{s}.tile.example.org".
_TILE_HOST = re.compile(r"(?:\{[a-z]+\}\.)?[A-Za-z0-9.-]+(?::\d{1,5})?")


def tile_source(tile_url: str | None) -> str:
    """The CSP source of the map tiles: their origin (``{s}.`` becomes ``*.``), or '' for this origin."""
    parts = urlsplit(tile_url or "")
    if not parts.scheme or not parts.netloc:
        return ""  # relative: tiles from this origin
    if not _TILE_HOST.fullmatch(parts.netloc):
        return f"{parts.scheme}:"
    host = re.sub(r"^\{[a-z]+\}", "*", parts.netloc)
    return f"{parts.scheme}://{host}"


def content_security_policy(*, tile_url: str | None, host: str | None) -> str:
    """The policy of every page: this origin's scripts and styles only, tiles as images."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.fullmatch(host) else ""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data: blob: {tile_source(tile_url)}".rstrip(),
        f"connect-src 'self'{sockets}",
        "media-src 'self' blob: mediastream:",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def permissions_policy(path: str) -> str:
    """Camera and geolocation for the pages that scan cards or follow the phone; nothing else."""
    allowed = any(path == page or path.startswith(page + "/") for page in CAMERA_AND_LOCATION_PAGES)
    own = "(self)" if allowed else "()"
    return f"camera={own}, geolocation={own}, microphone=(), payment=(), usb=()"


def set_security_headers(response: Response) -> Response:
    """Add the security headers to a response (any response: pages, scripts, the API, errors)."""
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(
        tile_url=current_app.config.get("TILE_URL"), host=request.host)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Permissions-Policy"] = permissions_policy(request.path)
    return response


def init_app(app: Flask) -> None:
    """Set the security headers on every response."""
    app.after_request(set_security_headers)
