"""Extension singletons, bound to the app in :func:`backend.create_app`."""

from flask_migrate import Migrate
from flask_smorest import Api as _Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase
from werkzeug.exceptions import HTTPException


class Base(DeclarativeBase):
    """Declarative base for every model (SQLAlchemy 2.0 typed mappings)."""


class Api(_Api):
    """flask-smorest Api whose error bodies always carry ``code`` and ``message``."""

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
