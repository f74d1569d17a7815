"""Pages and assets of the companion web app: ``/app``, manifest, service worker, icons."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, json, render_template, request

from backend.runtime import off_loop
from mobile_api.webapp import icons
from notifications.messages import RTL_LANGUAGES, SUPPORTED_LANGUAGES

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
LANGUAGES = SUPPORTED_LANGUAGES  # static/i18n/<lang>.json for each (the app's own texts)
EMERGENCY_NUMBERS = (("191", "police"), ("1155", "tourist_police"), ("1669", "ambulance"))

companion = Blueprint("companion", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/app/static")

# Everything the app needs to start with no network; the service worker keeps these.
SHELL_ASSETS = (
    "/app",
    "/app/manifest.webmanifest",
    "/app/static/app.css",
    "/app/static/app.js",
    *(f"/app/static/i18n/{lang}.json" for lang in LANGUAGES),
    "/app/icons/icon-192.png",
    "/app/icons/icon-512.png",
    "/vendor/leaflet/leaflet.js",
    "/vendor/leaflet/leaflet.css",
    "/vendor/leaflet/images/marker-icon.png",
    "/vendor/leaflet/images/marker-icon-2x.png",
    "/vendor/leaflet/images/marker-shadow.png",
    "/vendor/jsqr/jsQR.js",
)


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A digest of the shell's files: a new release changes the service worker and its cache."""
    digest = hashlib.sha256()
    for path in sorted([*STATIC.rglob("*"), *(HERE / "templates").rglob("*"), HERE / "icons.py"]):
        if path.is_file():
            digest.update(path.relative_to(HERE).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@companion.get("/app")
@companion.get("/app/")
def index() -> Response:
    """The app shell: every screen is drawn by app.js from the API."""
    config: dict[str, Any] = {
        "version": shell_version(),
        "tile_url": current_app.config.get("TILE_URL"),
        "languages": list(LANGUAGES),
        "rtl_languages": sorted(RTL_LANGUAGES),
        "emergency_numbers": [{"number": n, "service": s} for n, s in EMERGENCY_NUMBERS],
    }
    html = render_template("webapp/index.html", config=config, version=shell_version(),
                           emergency_numbers=EMERGENCY_NUMBERS)
    # the Content-Security-Policy and other security headers: backend.web.security
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-cache"})


@companion.get("/app/manifest.webmanifest")
def manifest() -> Response:
    """The Web App Manifest: installable, standalone, scoped to /app."""
    body = {
        "id": "/app",
        "name": "Phuket Tourist Safety",
        "short_name": "Phuket Safety",
        "description": "Your Smart Tourist Card companion: SOS, safety map and alerts in Phuket.",
        "lang": "en",
        "start_url": "/app",
        "scope": "/app",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b3d91",
        "categories": ["travel", "utilities"],
        "icons": [
            *({"src": f"/app/icons/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png",
               "purpose": "any"} for size in icons.SIZES),
            {"src": "/app/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
        "shortcuts": [{"name": "SOS", "short_name": "SOS", "url": "/app#sos",
                       "icons": [{"src": "/app/icons/icon-192.png", "sizes": "192x192"}]}],
    }
    return Response(json.dumps(body), mimetype="application/manifest+json", headers={"Cache-Control": "no-cache"})


@companion.get("/app/sw.js")
def service_worker() -> Response:
    """The service worker; ``Service-Worker-Allowed: /app`` lets it control /app itself, not just /app/…."""
    script = render_template("webapp/sw.js", version=shell_version(), shell=list(SHELL_ASSETS))
    return Response(script, mimetype="text/javascript", headers={
        "Service-Worker-Allowed": "/app",
        "Cache-Control": "no-cache",
    })


@companion.get("/app/icons/<name>.png")
def icon(name: str) -> Response:
    """The app's icons (192 and 512 px, and a maskable 512 px one)."""
    kind, _, size = name.rpartition("-")
    if kind not in ("icon", "maskable") or not size.isdigit() or int(size) not in icons.SIZES:
        abort(404)
    png = off_loop(icons.icon_png, int(size), maskable=kind == "maskable")  # PNG drawing: off the event loop
    response = Response(png, mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"})
    response.set_etag(hashlib.sha256(png).hexdigest()[:16])
    return response.make_conditional(request)
