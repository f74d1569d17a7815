"""The companion app's shell: page, manifest, service worker, icons and translations."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from PIL import Image

WEBAPP = Path(__file__).resolve().parents[2] / "mobile_api" / "webapp"
LANGUAGES = ("en", "th", "ru", "zh")


def test_app_page_is_the_shell_with_emergency_numbers(client):
    for path in ("/app", "/app/"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        html = response.get_data(as_text=True)
        assert '<link rel="manifest" href="/app/manifest.webmanifest">' in html
        for number in ("191", "1155", "1669"):
            assert f'href="tel:{number}"' in html
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_manifest_makes_the_app_installable(client):
    response = client.get("/app/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == "/app" and manifest["scope"] == "/app"
    assert manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"]
    purposes = set()
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as png:
            assert png.status_code == 200 and png.mimetype == "image/png"
            image = Image.open(io.BytesIO(png.data))
        assert f"{image.width}x{image.height}" == icon["sizes"]
        purposes.add(icon["purpose"])
    assert {"any", "maskable"} <= purposes
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}


def test_unknown_icon_is_404(client):
    assert client.get("/app/icons/icon-13.png").status_code == 404
    assert client.get("/app/icons/other-192.png").status_code == 404


def test_service_worker_controls_app_and_every_shell_file_exists(client):
    response = client.get("/app/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/app"
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", script).group(1))
    assert "/app" in shell and "/app/static/app.js" in shell
    # the worker's install fails as a whole if one of these is missing
    for url in shell:
        with client.get(url) as asset:
            assert asset.status_code == 200, url
    version = re.search(r"const VERSION = '([0-9a-f]+)';", script).group(1)
    assert version in client.get("/app").get_data(as_text=True)
    # POSTs (SOS, pings) are never answered from a cache
    assert "if (request.method !== 'GET') return;" in script


def _strings(client, lang: str) -> dict[str, str]:
    with client.get(f"/app/static/i18n/{lang}.json") as response:
        assert response.status_code == 200
        return response.get_json()


def test_translations_cover_every_text_of_the_page_in_all_languages(client):
    english = _strings(client, "en")
    for lang in LANGUAGES:
        strings = _strings(client, lang)
        assert set(strings) == set(english), lang
        assert all(isinstance(v, str) for v in strings.values())
        # placeholders survive translation
        for key, text in english.items():
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", strings[key])), (lang, key)
    html = (WEBAPP / "templates" / "webapp" / "index.html").read_text()
    script = (WEBAPP / "static" / "app.js").read_text()
    used = set(re.findall(r'data-i18n(?:-aria)?="([a-z_.]+)"', html)) | set(re.findall(r"\bt\('([a-z_.]+)'", script))
    used |= {f"call.{service}" for service in ("police", "tourist_police", "ambulance")}
    assert used - set(english) == set()
    assert english["lang.th"] == "ไทย"
    assert _strings(client, "th")["tab.home"] != english["tab.home"]
