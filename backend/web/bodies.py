"""Request bodies refused for their shape before anything parses them: JSON nested too deeply.

Python's JSON decoder recurses once per level: a body of a thousand ``[`` is a ``RecursionError``
(a 500) in whichever parser meets it first (webargs, ``request.get_json``). No request of this
API nests deeper than a few levels (GeoJSON polygons: four), so every body is checked first —
cheaply: most bodies have fewer brackets than the limit and are not looked at further.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, current_app, request
from flask_smorest import abort

log = logging.getLogger(__name__)

MESSAGE = "the JSON body is nested too deeply (at most {limit} levels of arrays and objects)"
# A JSON string, or an unterminated one up to the end: every '"' starts a match, so this is linear.
_STRING = re.compile(rb'"(?:[^"\\]|\\.?)*+(?:"|\Z)', re.DOTALL)
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """True when ``body`` nests arrays and objects (outside strings) more than ``limit`` deep."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", body).translate(_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):  # each pass removes the innermost level
        shallower = brackets.replace(b"[]", b"")
        if shallower == brackets:
            return False  # done (or unbalanced: the parser will say so)
        brackets = shallower
    return b"[]" in brackets


def refuse_deep_json() -> None:
    """Refuse (400) a body nested deeper than ``JSON_MAX_DEPTH``, on every endpoint, before parsing."""
    if not request.content_length:
        return
    limit = current_app.config["JSON_MAX_DEPTH"]
    if nested_deeper_than(request.get_data(cache=True), limit):
        abort(400, message=MESSAGE.format(limit=limit))


def too_deep(error: RecursionError) -> tuple[dict[str, Any], int]:
    """The safety net: a body that still made a parser recurse too deeply is a 400, not a 500."""
    log.warning("a request made the server recurse too deeply: %s", error)
    limit = current_app.config["JSON_MAX_DEPTH"]
    return {"code": 400, "status": "Bad Request", "message": MESSAGE.format(limit=limit)}, 400


def init_app(app: Flask) -> None:
    """Check every request's body before any view (or other check) parses it."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_deep_json)
    app.register_error_handler(RecursionError, too_deep)
