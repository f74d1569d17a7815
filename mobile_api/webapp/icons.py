"""The companion app's icons, drawn with Pillow when first asked for (no binary files in git)."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw

NAVY = (11, 61, 145, 255)
WHITE = (255, 255, 255, 255)
RED = (200, 16, 46, 255)
SIZES = (192, 512)


@lru_cache(maxsize=8)
def icon_png(size: int, *, maskable: bool = False) -> bytes:
    """A ``size``×``size`` PNG: a white shield with a red cross on navy.

    A maskable icon keeps the drawing inside the central 80 % safe zone and fills the
    whole square, as the Web App Manifest's ``purpose: maskable`` requires.
    """
    scale = 4  # draw large, then downsample for smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), NAVY if maskable else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if not maskable:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=NAVY)
    inset = big * (0.22 if maskable else 0.14)
    left, top, right, bottom = inset, inset, big - inset, big - inset
    middle = big / 2
    shield = [(left, top + (bottom - top) * 0.12), (middle, top), (right, top + (bottom - top) * 0.12),
              (right, top + (bottom - top) * 0.5), (middle, bottom), (left, top + (bottom - top) * 0.5)]
    draw.polygon(shield, fill=WHITE)
    arm = (right - left) * 0.13
    length = (right - left) * 0.30
    centre_y = top + (bottom - top) * 0.42
    draw.rectangle((middle - arm, centre_y - length, middle + arm, centre_y + length), fill=RED)
    draw.rectangle((middle - length, centre_y - arm, middle + length, centre_y + arm), fill=RED)
    image = image.resize((size, size), Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
