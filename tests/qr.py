"""Reading QR codes in tests the way a phone camera app or a hotel scanner does: QR only.

zxing-cpp looks for every barcode format by default, and the regular stripes of a QR symbol's
timing patterns occasionally also read as a short 1-D ITF code (seen in CI: ``'3277'`` beside the
real QR). A scanner of our cards looks for QR codes only, so the tests do too.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def read_qr_codes(image: bytes | Image.Image) -> list[str]:
    """The texts of every QR code in ``image`` (PNG bytes or a PIL image)."""
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    return [found.text for found in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def read_one_qr_code(image: bytes | Image.Image) -> str:
    """The text of the one QR code in ``image``; fails the test if there is not exactly one."""
    texts = read_qr_codes(image)
    assert len(texts) == 1, texts
    return texts[0]
