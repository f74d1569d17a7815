"""Shared web concerns: pinned front-end libraries under ``/vendor/``, every response's security
headers (:mod:`backend.web.security`), every request body's shape (:mod:`backend.web.bodies`)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, send_from_directory

from backend.web import bodies, security

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"

# Only these files are served: the browser builds of the pinned packages in package.json.
VENDOR_FILES = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet.markercluster/leaflet.markercluster.js": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "leaflet.markercluster/MarkerCluster.css": "leaflet.markercluster/dist/MarkerCluster.css",
    "leaflet.markercluster/MarkerCluster.Default.css": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "socket.io/socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
    "jsqr/jsQR.js": "jsqr/dist/jsQR.js",
    "swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}
# Leaflet's marker and layer images, referenced relative to its CSS.
VENDOR_DIRS = {"leaflet/images/": "leaflet/dist/images/"}

web = Blueprint("web", __name__, static_folder="static", static_url_path="/static/web",
                template_folder="templates")  # web/scanner_controls.html


@web.get("/vendor/<path:name>")
def vendor(name: str):
    """Serve one whitelisted file of a pinned front-end package."""
    target = VENDOR_FILES.get(name)
    if target is None:
        for prefix, folder in VENDOR_DIRS.items():
            if name.startswith(prefix) and "/" not in name[len(prefix):]:
                target = folder + name[len(prefix):]
    if target is None or not (NODE_MODULES / target).is_file():
        abort(404)
    return send_from_directory(NODE_MODULES, target, max_age=86400)


def init_app(app: Flask) -> None:
    """Register the shared web assets, the security headers and the body checks of every request."""
    app.register_blueprint(web)
    security.init_app(app)
    bodies.init_app(app)
