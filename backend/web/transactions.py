"""One unit of work per request, and domain exceptions translated to HTTP errors in one place.

- :func:`unit_of_work` wraps a view: its changes are committed when it returns and rolled back
  when it raises — an ``abort``, a domain exception or a bug alike — so a view never calls
  ``commit`` or ``rollback`` itself, and services keep never committing. It goes directly above
  the view function, below ``@blp.response``: the commit happens before the reply is serialized
  and sent, so nothing is acknowledged that is not durable (an SOS), and a commit that fails is
  the error answer (a lost database: ``backend.availability``'s 503), never a 200.
- ``@unit_of_work(keep_on=(Exc, …))`` names the refusals whose writes must survive the error
  answer: the audit entry of a refused card or sign-in, a throttle's failure count. For those
  exceptions the changes are committed, then the exception goes on to its handler; for every
  other one they are rolled back. (One mechanism, declared on the view where a reader sees it,
  instead of a commit in an ``except`` block.)
- ``@unit_of_work(expire_on_commit=False)`` commits without expiring what the view loaded: its
  reply is serialized from those rows next, and a plain commit would reload each one (and its
  relations) with a query of its own (the incident list's statement count).
- :func:`translate` registers, once per domain (in its ``init_app``), which of its exceptions
  becomes which HTTP error; the answer has the API's usual shape ``{code, status, message,
  errors?}`` with any headers (``Retry-After``), as ``abort`` would write it (flask-smorest's
  error handler writes both), so a view need not catch the exception. With ``blueprint=`` it
  applies to that blueprint's views only; :func:`answer` registers a handler of one's own (an
  answer of another shape: a refused card's ``reason``, a held departure's warning).
  (Blueprints are module-level and registered again by every ``create_app``, so the handlers are
  kept per app, not on the blueprint, which accepts none after its first registration.)

Used by every API view module (``backend/<domain>/views.py``, ``geo/views.py``,
``mobile_api/views.py``, ``notifications/views.py``) and the console's Socket.IO handlers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

from flask import Blueprint, Flask, request
from werkzeug.exceptions import HTTPException, default_exceptions

from backend.extensions import api, db

F = TypeVar("F", bound=Callable[..., Any])
Detail = Callable[[Any], Any]


def _discard() -> None:
    """Roll back; a connection that cannot roll back (the database is gone) is dropped, not waited on."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the original exception is what the caller must see
        db.session.invalidate()


@overload
def unit_of_work(view: F) -> F: ...


@overload
def unit_of_work(*, keep_on: tuple[type[BaseException], ...] = (),
                 expire_on_commit: bool = True) -> Callable[[F], F]: ...


def unit_of_work(view: F | None = None, *, keep_on: tuple[type[BaseException], ...] = (),
                 expire_on_commit: bool = True) -> F | Callable[[F], F]:
    """Commit the view's changes when it returns (or raises one of ``keep_on``); roll back when it raises."""

    def commit() -> None:
        session = db.session()
        if expire_on_commit:
            session.commit()
            return
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = True

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = func(*args, **kwargs)
            except keep_on:
                commit()
                raise
            except BaseException:
                _discard()
                raise
            commit()
            return result

        return wrapper  # type: ignore[return-value]

    return decorate(view) if view is not None else decorate


def answer(app: Flask, exception: type[Exception], handler: Callable[[Any], Any], *,
           blueprint: Blueprint | None = None) -> None:
    """Answer ``exception`` with ``handler(exc)``: raised by any view, or only by ``blueprint``'s views.

    Another view's exception of that class is not this handler's: it stays a 500 (unless a
    handler without a blueprint is registered too).
    """
    answers = app.extensions.setdefault("pts_error_answers", {})
    if exception not in answers:
        answers[exception] = {}

        def dispatch(exc: Exception) -> Any:
            by_blueprint = answers[exception]
            for name in (*request.blueprints, None):
                if name in by_blueprint:
                    return by_blueprint[name](exc)
            raise exc

        app.register_error_handler(exception, dispatch)
    answers[exception][blueprint.name if blueprint is not None else None] = handler


def translate(app: Flask, exception: type[Exception], status: int, *, blueprint: Blueprint | None = None,
              message: str | Detail | None = None, errors: Detail | None = None,
              headers: Detail | None = None) -> None:
    """Answer ``exception`` raised by any view (or only ``blueprint``'s) with HTTP ``status``.

    The message is ``message`` (text, or a function of the exception), else the exception's text;
    ``errors(exc)`` and ``headers(exc)`` add the body's ``errors`` and the reply's headers.
    """

    def handle(exc: Exception) -> Any:
        http: HTTPException = default_exceptions[status]()
        text = message(exc) if callable(message) else message if message is not None else str(exc)
        data: dict[str, Any] = {"message": text}
        if errors is not None:
            data["errors"] = errors(exc)
        if headers is not None:
            data["headers"] = headers(exc)
        http.data = data  # type: ignore[attr-defined]
        return api.handle_http_exception(http)

    answer(app, exception, handle, blueprint=blueprint)


def retry_after(exc: Any) -> dict[str, str]:
    """The ``Retry-After`` header of a throttle's refusal (its ``retry_after`` seconds)."""
    return {"Retry-After": str(exc.retry_after)}
