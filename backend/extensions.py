"""Extension singletons, bound to the app in :func:`backend.create_app`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask_migrate import Migrate
from flask_smorest import Api as _Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase
from werkzeug.exceptions import HTTPException


class Base(DeclarativeBase):
    """Declarative base for every model (SQLAlchemy 2.0 typed mappings)."""


class Api(_Api):
    """flask-smorest Api whose error bodies always carry ``code`` and ``message``.

    The OpenAPI document is written when it is first read (``/openapi.json``, ``flask openapi``,
    ``api.spec``), not while the blueprints are registered: apispec resolving every marshmallow
    schema was two thirds of building an app, paid by every process and every test app that never
    serves the document. The document itself is the same, path for path and tag for tag, in
    registration order.
    """

    _undocumented: list[Callable[[], None]]  # each registered blueprint's documentation, still to write

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._documenting = threading.RLock()  # two first reads at once: one writes, the other waits
        super().__init__(*args, **kwargs)  # sets ``spec`` (None, or the app's): the setter starts the list

    @property  # type: ignore[override]
    def spec(self):  # noqa: ANN201 - apispec.APISpec
        """The OpenAPI document, with every registered blueprint's views documented."""
        if self._undocumented:  # removed only once written: a reader that finds it empty gets it whole
            with self._documenting:
                while self._undocumented:
                    self._undocumented[0]()
                    self._undocumented.pop(0)
        return self._spec

    @spec.setter
    def spec(self, value) -> None:  # noqa: ANN001 - a new app's apispec.APISpec (init_app)
        self._spec = value
        self._undocumented = []

    def security_scheme(self, name: str, definition: dict[str, Any]) -> None:
        """Declare a security scheme of the document (without documenting the views yet)."""
        self._spec.components.security_scheme(name, definition)

    def register_blueprint(self, blp, *, parameters=None, **options) -> None:  # noqa: ANN001
        """Register ``blp`` in the app now; document its views when the document is read."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        app, spec = self._app, self._spec

        def document() -> None:
            blp.register_views_in_doc(self, app, spec, name=name, parameters=parameters)
            spec.tag({"name": name, "description": blp.description})

        self._undocumented.append(document)

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        """Render every HTTP error as the contract's JSON error object."""
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description or error.name)
        if code == 422 and "errors" not in payload:
            payload["errors"] = {}
        if getattr(error, "response", None) is not None and error.response is not None:
            headers = {**dict(error.response.headers), **headers}
            headers.pop("Content-Type", None)
            headers.pop("Content-Length", None)
        return payload, code, headers


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
socketio = SocketIO()
