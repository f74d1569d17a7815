"""The printed card in Chromium's print rendering: the identity QR's modules measure at least 0.5 mm.

A phone camera or a hotel's webcam reads a QR reliably when its modules are large enough; on
the ID-1 card (85.6 × 54 mm) the identity QR is drawn 46 mm wide and the longest token (a name of
48 UTF-8 bytes, a resident card) is a version-16 symbol. The test measures what Chromium lays out
for print: the QR element's width in CSS px (1 px = 1/96 in), the symbol's own width as the
decoder finds it in a screenshot, and the version the decoder reads.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image

from tests.qr import read_one_qr_code

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MM_PER_CSS_PX = 25.4 / 96
QUIET_ZONE = 4  # modules on each side, drawn inside the QR image (backend/cards/qr.py)
SCALE = 4  # device pixels per CSS px of the screenshots


@pytest.fixture
def server(start_server) -> str:
    """``python wsgi.py`` on the test's database and key folder; its base URL."""
    return start_server(THREADS="4").url


def _decode(png_path) -> zxingcpp.Result:  # noqa: ANN001
    [found] = zxingcpp.read_barcodes(Image.open(png_path).convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    return found


@pytest.mark.browser
def test_printed_identity_qr_has_modules_of_half_a_millimetre(app, auth, factories, server, artifacts_dir,
                                                               database_url):
    from backend.cards.service import today_in_phuket
    from tests.browser import shared_playwright

    auth.user("immigration", username="officer.print", password="checkpoint-pass-1")
    stay_until = today_in_phuket() + timedelta(days=300)
    # the longest token: a long Thai name (cut to 48 bytes in the QR) on a resident card
    card = factories.issued_card(full_name="สมชาย ใจดี รักชาติไทยแลนด์ ภูเก็ตบุรี ศรีสุนทร", nationality="THA",
                                 latin_name="JAIDEE<<SOMCHAI", kind="resident", stay_until=stay_until)
    label = "postgis" if database_url.startswith("postgresql") else "spatialite"
    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            # a PC in Bangkok: the printed date must not move to the next day
            context = browser.new_context(viewport={"width": 1000, "height": 800}, device_scale_factor=SCALE,
                                          timezone_id="Asia/Bangkok")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server + "/checkpoint")
            page.fill("#username", "officer.print")
            page.fill("#password", "checkpoint-pass-1")
            page.click("#signin-button")
            page.wait_for_selector("#find-section", state="visible")
            page.goto(f"{server}/cards/{card['card_id']}/print")
            page.wait_for_selector("body[data-ready='1']", timeout=20000)
            page.emulate_media(media="print")
            assert page.locator(".controls").is_hidden()

            assert page.text_content("#f-valid") == stay_until.strftime("%d/%m/%Y") + " · resident"
            assert page.text_content("#f-latin") == "JAIDEE, SOMCHAI"

            # the card keeps its ID-1 size and nothing spills out of it
            front = page.locator(".card.front").bounding_box()
            assert abs(front["width"] - 85.6 / MM_PER_CSS_PX) < 1.5 and abs(front["height"] - 54 / MM_PER_CSS_PX) < 1.5
            qr_box = page.locator("#qr-token").bounding_box()
            assert front["x"] <= qr_box["x"] and qr_box["x"] + qr_box["width"] <= front["x"] + front["width"]
            assert front["y"] <= qr_box["y"] and qr_box["y"] + qr_box["height"] <= front["y"] + front["height"]
            shot = artifacts_dir / f"cards-print-qr-{label}.png"
            page.locator(".card.front").screenshot(path=str(shot))
            # no field is clipped: the card, its text column and its fields hold all they contain
            clipped = page.evaluate("""() => [...document.querySelectorAll(
                    '.card.front, .front-text, .front .card-fields, .front .card-fields dd:not(.name)')]
                .filter(el => el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1)
                .map(el => el.id || el.className)""")
            assert clipped == []
            found = _decode(shot)
            assert found.text == card["card_token"]  # still decodes, to exactly the token
            version = int(found.extra["Version"])
            assert found.extra["ECLevel"] == "M" and version <= 16
            modules = 17 + 4 * version

            # the QR image includes its quiet zone: its SVG viewBox is the module count plus 2 × 4
            svg = page.evaluate("""async (url) => {
                const grant = JSON.parse(sessionStorage.getItem('pts.staff'));
                const r = await fetch(url, {headers: {Authorization: 'Bearer ' + grant.token}});
                return await r.text(); }""", f"/api/v1/cards/{card['card_id']}/qr.svg")
            total = modules + 2 * QUIET_ZONE
            assert re.search(rf'viewBox="0 0 {total} {total}"', svg), svg[:200]

            element_mm = qr_box["width"] * MM_PER_CSS_PX
            module_mm = element_mm / total
            # the decoder's own corners of the symbol (no quiet zone), in device pixels
            xs = [found.position.top_left.x, found.position.top_right.x]
            symbol_mm = (max(xs) - min(xs)) / SCALE * MM_PER_CSS_PX
            print(f"QR version {version}: {element_mm:.1f} mm wide, module {module_mm:.3f} mm "
                  f"(decoder: {symbol_mm / modules:.3f} mm)")
            assert module_mm >= 0.5
            assert symbol_mm / modules >= 0.49  # the decoder's corners sit within a pixel of the symbol's edge

            page.pdf(path=str(artifacts_dir / f"cards-print-qr-{label}.pdf"), format="A4", print_background=True)
            page.screenshot(path=str(artifacts_dir / f"cards-print-page-{label}.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    # the QR image served for printing is the same token
    assert read_one_qr_code(shot.read_bytes()) == card["card_token"]
