"""Every staff page shares one session and API client, /static/web/staff.js (StaffSession).

What the module does in a browser (sign-in, the bearer token, a 401 ending the session, the error shape
turned into one error type) is exercised in Chromium by the pages' own tests (tests/dispatch/test_console_*.py,
test_session_end.py, tests/hotels/test_page*.py, tests/cards/test_pages.py, test_checkpoint_find.py,
test_print_qr.py, tests/marine/test_operator_page.py, tests/notifications/test_console_broadcasts.py); this
checks the module is served from one place under the pages' policy, that every staff page loads it before its
own scripts, and that no page script keeps a session or sign-in of its own.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE = "/static/web/staff.js"
PAGE_SCRIPTS = {  # page → the scripts of its own that talk to the API
    "/console": ["backend/dispatch/static/console.js", "notifications/static/broadcasts.js"],
    "/hotel": ["backend/hotels/static/hotel.js"],
    "/checkpoint": ["backend/cards/static/checkpoint.js"],
    "/marine": ["backend/marine/static/marine.js"],
}


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs).get("src") or "")


def _scripts(client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    page = _Scripts()
    page.feed(response.get_data(as_text=True))
    return page.scripts


@pytest.mark.parametrize("path", sorted(PAGE_SCRIPTS))
def test_the_page_loads_the_one_staff_session_before_its_own_scripts(client, path):
    scripts = _scripts(client, path)
    assert "" not in scripts  # no inline script
    assert scripts.count(MODULE) == 1
    for own in PAGE_SCRIPTS[path]:
        name = own.rsplit("/", 1)[1]
        mine = [s for s in scripts if s.endswith("/" + name)]
        assert mine, (name, scripts)
        assert scripts.index(MODULE) < scripts.index(mine[0])


def test_the_printable_card_loads_it_too(client):
    scripts = _scripts(client, "/cards/PTS0000000/print")  # the page itself; its data loads with the token
    assert scripts.count(MODULE) == 1
    assert scripts.index(MODULE) < scripts.index("/static/cards/print.js")


def test_the_module_is_served_from_one_place_under_the_same_policy(client):
    response = client.get(MODULE)
    body = response.get_data(as_text=True)
    response.close()  # a static file's response holds the file open
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "window.StaffSession" in body
    assert not (ROOT / "backend/cards/static/staff.js").exists()  # the old card pages' copy is gone


@pytest.mark.parametrize("script", sorted({s for scripts in PAGE_SCRIPTS.values() for s in scripts}
                                          | {"backend/cards/static/print.js"}))
def test_no_staff_page_keeps_a_session_or_api_client_of_its_own(script):
    source = (ROOT / script).read_text(encoding="utf-8")
    for own in ("sessionStorage.setItem(TOKEN", "/api/v1/auth/login", "class ApiError", "Authorization",
                "Bearer ", "getToken"):
        assert own not in source, (script, own)
    assert "StaffSession" in source or script.endswith("broadcasts.js")  # the composer gets the console's


class _SignIn(HTMLParser):
    """The ids of the page's sign-in form (web/signin_form.html) and of its sign-out button."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id") in {"signin", "signin-form", "username", "password", "signin-button", "signin-error",
                               "sign-out"}:
            self.ids.append(attrs["id"])


@pytest.mark.parametrize("path", sorted(PAGE_SCRIPTS))
def test_every_staff_page_signs_in_with_the_one_form(client, path):
    """The partial's markup on every page, wired by StaffSession.signInForm, and no page's own handler."""
    page = _SignIn()
    page.feed(client.get(path).get_data(as_text=True))
    assert sorted(page.ids) == sorted(["signin", "signin-form", "username", "password", "signin-button",
                                       "signin-error", "sign-out"])
    source = (ROOT / PAGE_SCRIPTS[path][0]).read_text(encoding="utf-8")
    assert source.count("StaffSession.signInForm(") == 1
    for own in (".signIn(", '"signin-form"', '"signin-button"', '"signin-error"', '"password"'):
        assert own not in source, (path, own)
