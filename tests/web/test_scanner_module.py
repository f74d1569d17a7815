"""The staff pages that scan a card (/hotel, /marine) share one scanner, /static/web/scanner.js.

The scanning itself (camera, photo, pasted code) is exercised in Chromium by tests/hotels/test_page.py and
tests/marine/test_operator_page.py; this checks the module is served from one place under the pages' policy,
that each page carries the markup the module expects, and that no page keeps a decoder of its own.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNING_PAGES = {"/hotel": "backend/hotels/static/hotel.js", "/marine": "backend/marine/static/marine.js"}
PARTS = ("start", "stop", "file", "camera", "message", "code")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.roots = 0
        self.parts: dict[str, list[str]] = {}
        self._open: list[str] = []  # the tags open inside the scanner root
        self.inside_root = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs.get("src") or "")
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.styles.append(attrs["href"])
        if "data-scanner" in attrs:
            self.roots += 1
            self.inside_root = 1
            return
        if self.inside_root and tag not in ("input", "br", "img", "link", "meta"):
            self.inside_root += 1
        if "data-scan" in attrs:
            self.parts.setdefault(attrs["data-scan"], []).append(tag if self.inside_root else "outside:" + tag)

    def handle_endtag(self, tag):
        if self.inside_root:
            self.inside_root -= 1


@pytest.mark.parametrize("path", sorted(SCANNING_PAGES))
def test_the_page_loads_the_one_scanner_with_the_markup_it_expects(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = _Page()
    page.feed(response.get_data(as_text=True))
    assert "" not in page.scripts  # no inline script
    assert page.scripts.index("/vendor/jsqr/jsQR.js") < page.scripts.index("/static/web/scanner.js")
    assert page.scripts.index("/static/web/scanner.js") < len(page.scripts) - 1  # before the page's own script
    assert "/static/web/scanner.css" in page.styles
    assert page.roots == 1
    assert dict(page.parts) == {
        "start": ["button"], "stop": ["button"], "file": ["input"], "camera": ["div"], "message": ["p"],
        "code": ["textarea"]}
    assert "camera=(self)" in response.headers["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/static/web/scanner.js", "/static/web/scanner.css"])
def test_the_scanner_is_served_from_one_place_under_the_same_policy(client, path):
    response = client.get(path)
    response.close()  # a static file's response holds the file open
    assert response.status_code == 200
    assert response.mimetype == ("text/javascript" if path.endswith(".js") else "text/css")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Permissions-Policy"].startswith("camera=()")  # the module itself is no page


@pytest.mark.parametrize("script", sorted(SCANNING_PAGES.values()))
def test_no_scanning_page_keeps_a_decoder_of_its_own(script):
    source = (ROOT / script).read_text(encoding="utf-8")
    for own_decoder in ("jsQR(", "getUserMedia", "BarcodeDetector", "createImageBitmap"):
        assert own_decoder not in source, f"{script} decodes QR codes itself ({own_decoder})"
    assert "CardScanner.attach(" in source
