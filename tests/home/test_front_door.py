"""The front door: ``/`` links every page, ``/docs`` is Swagger UI on ``/openapi.json``, ``/favicon.ico``."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

PAGES = ["/console", "/hotel", "/checkpoint", "/marine", "/app", "/docs"]


def links(html: str) -> list[str]:
    """The ``href`` of every link of a page."""
    return re.findall(r'<a [^>]*href="([^"]+)"', html)


def test_the_landing_page_links_every_page_in_english_and_thai(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert set(PAGES) <= set(links(html))
    assert "Phuket Tourist Safety" in html and "ความปลอดภัยนักท่องเที่ยวภูเก็ต" in html
    assert "คอนโซลศูนย์ 191" in html and "เอกสาร API" in html
    assert "<script" not in html  # nothing to run; the CSP would refuse anything inline anyway


def test_every_link_of_the_landing_page_answers(client):
    for href in links(client.get("/").get_data(as_text=True)):
        with client.get(href) as response:
            assert response.status_code == 200, href


def test_the_docs_page_loads_swagger_ui_from_this_origin(client):
    html = client.get("/docs").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in scripts and "/static/home/docs.js" in scripts
    assert re.search(r"<script>|<script [^>]*>[^<]", html) is None  # no inline script
    for path in [*scripts, "/vendor/swagger-ui/swagger-ui.css"]:
        with client.get(path) as response:
            assert response.status_code == 200, path
    assert 'data-spec-url="/openapi.json"' in html
    assert client.get("/openapi.json").status_code == 200


def test_the_favicon_is_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "ICO" and image.size == (48, 48)
    assert {(16, 16), (32, 32), (48, 48)} <= image.info["sizes"]


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["spatialite"], indirect=True)  # no page here reads the database
def test_the_front_door_and_the_api_docs_in_chromium(start_server, artifacts_dir):
    from tests.browser import shared_playwright
    from tests.webapp.conftest import CHROMIUM_ARGS

    url = start_server("front-door").url
    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            # the pages' own Content-Security-Policy stays on: a refused script or style would show here
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30000)
            errors: list[str] = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(url + "/")
            assert page.title().startswith("Phuket Tourist Safety")
            cards = page.locator("a.page")
            assert cards.count() == len(PAGES)
            assert [cards.nth(i).get_attribute("href") for i in range(cards.count())] == PAGES
            assert page.locator("a.page .name .th").first.is_visible()
            page.screenshot(path=str(artifacts_dir / "home-landing.png"), full_page=True)

            page.locator('a.page[href="/docs"]').click()
            page.wait_for_url(url + "/docs")
            pings = page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/mobile/pings$"))
            pings.first.wait_for()
            assert page.locator(".opblock-summary-path", has_text="/api/v1/dispatch/incidents").count() >= 1
            assert "Phuket Tourist Safety API" in page.locator(".info .title").inner_text()
            pings.first.click()  # an operation opens with its request body's schema
            page.locator(".opblock.is-open .opblock-body").first.wait_for()
            page.screenshot(path=str(artifacts_dir / "home-docs.png"))
            assert errors == []
        finally:
            browser.close()
