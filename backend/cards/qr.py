"""QR rendering of card tokens and enrollment links (PNG and SVG) with ``qrcode``.

Error correction level M (15 % of the symbol may be lost) balances the two uses: a card
token is long (~450 characters), and level Q or H would make a version-20+ symbol whose
modules get too small for an ordinary office printer on a credit-card sized print; M keeps
the modules large enough for a phone camera while tolerating wear and a scuffed lamination.
The quiet zone is the standard four modules.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

from backend.runtime import off_loop

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
BORDER = 4


def _symbol(text: str, *, box_size: int = 10) -> qrcode.QRCode:
    symbol = qrcode.QRCode(error_correction=ERROR_CORRECTION, box_size=box_size, border=BORDER)
    symbol.add_data(text.encode("utf-8"), optimize=0)
    symbol.make(fit=True)
    return symbol


def _png(text: str, box_size: int) -> bytes:
    image = _symbol(text, box_size=box_size).make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def _svg(text: str) -> str:
    return _symbol(text).make_image(image_factory=SvgPathImage).to_string(encoding="unicode")


def png(text: str, *, box_size: int = 8) -> bytes:
    """A PNG QR code of ``text`` (``box_size`` pixels per module); rendered off the event loop."""
    return off_loop(_png, text, box_size)


def svg(text: str) -> str:
    """A scalable SVG QR code of ``text`` (one path; sized by its viewBox); rendered off the event loop."""
    return off_loop(_svg, text)
