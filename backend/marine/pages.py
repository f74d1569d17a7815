"""The boat operator's page ``/marine``: sign in, register trips, scan passengers aboard and ashore.

A page blueprint of its own, beside the marine API: the page is served to anyone (signing in
happens in the page) and every data call it makes is an ordinary authorized API call. The
Content-Security-Policy and the other security headers come from :mod:`backend.web.security`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

page = Blueprint("marine_page", __name__, template_folder="templates", static_folder="static",
                 static_url_path="/static/marine")

PAGE_HEADERS = {"Cache-Control": "no-store"}


@page.get("/marine")
def marine_page():
    """The operator's page: trips, boarding and ashore scans, departure, return, who is missing."""
    return render_template("marine/marine.html"), 200, PAGE_HEADERS


def init_app(app: Flask) -> None:
    """Register the operator's page."""
    app.register_blueprint(page)
