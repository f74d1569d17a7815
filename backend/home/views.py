"""``/`` links every page of the service; ``/docs`` is Swagger UI on ``/openapi.json``; ``/favicon.ico``.

The docs page is our own template rather than flask-smorest's ``OPENAPI_SWAGGER_UI_PATH``: that
template starts Swagger UI with an inline script, which the pages' Content-Security-Policy
(``script-src 'self'``, :mod:`backend.web.security`) refuses. Swagger UI itself is the pinned npm
package ``swagger-ui-dist``, served under ``/vendor/swagger-ui/`` like the other libraries.
"""

from __future__ import annotations

import io
from functools import lru_cache

from flask import Blueprint, Response, render_template
from PIL import Image

from mobile_api.webapp import icons

home = Blueprint("home", __name__, template_folder="templates", static_folder="static",
                 static_url_path="/static/home")

# (path, English name, Thai name, English description, Thai description), in the landing page's order.
PAGES = (
    ("/console", "191 Dispatch console", "คอนโซลศูนย์ 191",
     "Live SOS and incidents on the map, positions, safety broadcasts.",
     "เหตุฉุกเฉินและตำแหน่งนักท่องเที่ยวแบบเรียลไทม์ ประกาศเตือนภัย"),
    ("/hotel", "Hotel desk", "เคาน์เตอร์โรงแรม",
     "SHA Plus hotels: check guests in by scanning their card, see their safety status.",
     "โรงแรม SHA Plus: เช็คอินแขกด้วยการสแกนบัตร ดูสถานะความปลอดภัย"),
    ("/checkpoint", "Immigration checkpoint", "ด่านตรวจคนเข้าเมือง",
     "Issue and print Smart Tourist Cards at the airport, land and sea checkpoints.",
     "ออกและพิมพ์บัตรนักท่องเที่ยวอัจฉริยะ"),
    ("/marine", "Boat operators", "ผู้ประกอบการเรือ",
     "Boat trips: scan passengers aboard and ashore, see who is missing.",
     "เที่ยวเรือ: สแกนบัตรผู้โดยสารขึ้นเรือและขึ้นฝั่ง ดูว่าใครยังไม่กลับ"),
    ("/app", "Companion app", "แอปสำหรับนักท่องเที่ยว",
     "For tourists: link the card, share location, press SOS.",
     "สำหรับนักท่องเที่ยว: ผูกบัตร แชร์ตำแหน่ง กดขอความช่วยเหลือ"),
    ("/docs", "API documentation", "เอกสาร API",
     "Every /api/v1 operation, interactive (Swagger UI on /openapi.json).",
     "ทุกคำสั่งของ API ทดลองเรียกได้"),
)


@home.get("/")
def landing() -> str:
    """The landing page: one link per page of the service."""
    return render_template("home/index.html", pages=PAGES)


@home.get("/docs")
def docs() -> str:
    """Swagger UI on the service's OpenAPI document."""
    return render_template("home/docs.html")


@lru_cache(maxsize=1)
def favicon_ico() -> bytes:
    """The companion app's icon (:mod:`mobile_api.webapp.icons`) as a 16–48 px ICO."""
    image = Image.open(io.BytesIO(icons.icon_png(48)))
    buffer = io.BytesIO()
    image.save(buffer, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return buffer.getvalue()


@home.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon, for browsers' tabs and bookmarks."""
    response = Response(favicon_ico(), mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
