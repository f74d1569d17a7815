"""One unit of work per request, and domain exceptions translated to HTTP errors in one place.

- :func:`unit_of_work` wraps a view: its changes are committed when it returns and rolled back
  when it raises — an ``abort``, a domain exception or a bug alike — so a view never calls
  ``commit`` or ``rollback`` itself, and services keep never committing.
- :func:`translate` registers, once per domain (in its ``init_app``), which of its exceptions
  becomes which HTTP error; the answer has the API's usual shape ``{code, status, message,
  errors?}`` (flask-smorest's error handler writes it), so a view need not catch the exception.

Used by the zones API (``geo/views.py``) as the pattern for the other domains.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from werkzeug.exceptions import HTTPException, default_exceptions

from backend.extensions import api, db

F = TypeVar("F", bound=Callable[..., Any])


def unit_of_work(view: F) -> F:
    """Commit the view's changes when it returns; roll them back when it raises (then re-raise)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = view(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return wrapper  # type: ignore[return-value]


def translate(app: Flask, exception: type[Exception], status: int, *,
              errors: Callable[[Exception], dict[str, Any]] | None = None) -> None:
    """Answer ``exception`` raised by any view with HTTP ``status``: its text as the message, ``errors(exc)``."""

    def handle(exc: Exception) -> Any:
        http: HTTPException = default_exceptions[status]()
        http.data = {"message": str(exc), **({"errors": errors(exc)} if errors else {})}  # type: ignore[attr-defined]
        return api.handle_http_exception(http)

    app.register_error_handler(exception, handle)
