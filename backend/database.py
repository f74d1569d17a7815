"""Database selection: SpatiaLite (embedded default) or PostgreSQL + PostGIS, one code base."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, request
from flask_smorest import abort
from geoalchemy2.admin.dialects.sqlite import init_spatialite, load_spatialite_driver
from sqlalchemy import ColumnElement, event, func
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DataError
from werkzeug.routing import IntegerConverter

from backend import availability
from backend.extensions import db

log = logging.getLogger(__name__)

DEFAULT_SQLITE_URL = "sqlite:///pts.sqlite"  # relative: under the app's instance/ folder
MAX_ID = 2**31 - 1  # ids are PostgreSQL ``integer`` columns: no id is larger (SQLite would take 2**63 - 1)


class IdConverter(IntegerConverter):
    """``<int:…>`` of every route: a non-negative number the database can hold.

    A larger one names nothing and is a 404, not a driver error (PostgreSQL refuses to compare an
    ``integer`` column with a number past 32 bits, SQLite's driver one past 64 bits).
    """

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 - werkzeug's names
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def configure(app: Flask) -> None:
    """Translate ``DATABASE_URL`` into Flask-SQLAlchemy settings for the chosen backend."""
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL")
    url = url or DEFAULT_SQLITE_URL
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    options: dict[str, Any] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.startswith("sqlite"):
        import pysqlite3.dbapi2 as sqlite_dbapi  # stdlib sqlite3 here cannot load extensions

        options.setdefault("module", sqlite_dbapi)
        connect_args = dict(options.get("connect_args") or {})
        # the busy timeout: how long a write waits for another writer's lock (then a 503)
        connect_args.setdefault("timeout", int(app.config.get("DB_BUSY_TIMEOUT_MS") or 4000) / 1000)
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
    else:
        availability.postgres_engine_options(app, options, make_url(url).query)
        # Connections past pool_size are opened for one checkout and closed again: under load that
        # is a new PostgreSQL backend per request. Keep the pool as large as the steady concurrency.
        options.setdefault("pool_size", int(app.config.get("DB_POOL_SIZE") or 30))
        options.setdefault("max_overflow", int(app.config.get("DB_MAX_OVERFLOW") or 10))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    """Load SpatiaLite into every new SQLite connection and set safe pragmas."""
    os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
    load_spatialite_driver(dbapi_conn)
    dbapi_conn.execute("PRAGMA journal_mode=WAL")
    dbapi_conn.execute("PRAGMA synchronous=NORMAL")
    dbapi_conn.execute("PRAGMA foreign_keys=ON")
    # SQLite's lower() folds only ASCII; searches by name need every script, as PostgreSQL's lower() does.
    dbapi_conn.create_function("pts_lower", 1, _lower_any_script, deterministic=True)
    init_spatialite(dbapi_conn, transaction=True, init_mode="WGS84")


def _lower_any_script(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def lower(column: Any) -> ColumnElement[Any]:
    """``lower(column)`` in every script on both databases (``pts_lower`` on SQLite, ``lower`` on PostgreSQL)."""
    return func.pts_lower(column) if db.session.get_bind().dialect.name == "sqlite" else func.lower(column)


def _begin_before_savepoint(connection: Any, _name: str) -> None:
    """Open the transaction a SAVEPOINT is to be nested in, which pysqlite has not begun yet (SQLite).

    pysqlite begins a transaction only just before a write (INSERT, UPDATE, DELETE), so the reads
    that precede it run outside one. A ``session.begin_nested()`` as the transaction's first write
    would then emit its SAVEPOINT outside any transaction, SQLite makes that savepoint the
    transaction itself, and releasing it commits for good: a later rollback of the request (the
    unit of work's) would not undo it. The transaction is begun here instead, ``IMMEDIATE``
    (the write lock at once, waiting the busy timeout like any write), since a savepoint is opened
    to write.

    (SQLAlchemy's documented recipe — ``isolation_level=None`` and ``BEGIN`` on every begin — also
    puts the reads in the transaction: a request that reads, then writes after another connection
    committed, fails at once with SQLITE_BUSY (a stale WAL snapshot cannot take the write lock, the
    busy timeout does not apply), so concurrent writers would get 503s. Not used, for that.)
    """
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # via SQLAlchemy: a busy database is its OperationalError (503)


def bind_engine_events(engine: Engine) -> None:
    """Attach the SpatiaLite loader and the savepoints' BEGIN to a SQLite engine (no-op for PostgreSQL)."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _on_sqlite_connect):
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "savepoint", _begin_before_savepoint)


def is_postgres() -> bool:
    """True when the bound database is PostgreSQL (PostGIS), False for SpatiaLite."""
    return db.engine.dialect.name == "postgresql"


def value_out_of_range(error: Exception) -> tuple[dict[str, Any], int]:
    """A value the database cannot hold (a too large number, a NUL character in text) is bad input: 422.

    Schemas bound what they accept; this is the safety net for a value that slipped past one.
    The request's transaction is rolled back, so nothing changes.
    """
    db.session.rollback()
    log.warning("a request value did not fit the database: %s", error)
    return {"code": 422, "errors": {},
            "message": "a value in the request cannot be stored: a number out of range or a NUL character in text"}, 422


NUL_MESSAGE = "text must not contain NUL characters"


def _nul_errors(value: Any) -> dict[str, Any] | list[str] | None:
    """The fields of a parsed request part whose text (or key) holds a NUL, in webargs' error shape."""
    if isinstance(value, str):
        return [NUL_MESSAGE] if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    errors: dict[str, Any] = {}
    for key, item in items:
        found = [NUL_MESSAGE] if isinstance(key, str) and "\x00" in key else _nul_errors(item)
        if found:
            errors[str(key)] = found
    return errors or None


def _nul_fields(fields: Any) -> dict[str, list[str]] | list[str]:
    """The names of a query's or form's fields (a MultiDict) with a NUL in a name or a value."""
    bad = {name: [NUL_MESSAGE] for name in fields
           if "\x00" in name or any("\x00" in value for value in fields.getlist(name))}
    return bad or [NUL_MESSAGE]


def refuse_nul_characters() -> None:
    """Text with a NUL character is refused up front (422 naming the field), the same on both databases.

    PostgreSQL cannot store NUL in text and SQLite would keep it; no field of this API has a use
    for it. JSON carries it only as the escape ``\\u0000``, forms and queries as ``%00``; the
    (rare) request that holds one is parsed to name the fields, as any validation error does.
    """
    errors: dict[str, Any] = {}
    if b"%00" in request.query_string:
        errors["query"] = _nul_fields(request.args)
    body = request.get_data(cache=True) if request.content_length else b""
    if request.mimetype == "application/x-www-form-urlencoded":
        if b"%00" in body:
            errors["form"] = _nul_fields(request.form)
    elif b"\\u0000" in body:
        parsed = request.get_json(silent=True)
        if parsed is not None:  # malformed JSON gets its own 400 from the view
            errors["json"] = _nul_errors(parsed) or [NUL_MESSAGE]
    if errors:
        abort(422, message=NUL_MESSAGE, errors=errors)


def init_app(app: Flask) -> None:
    """Bind the database extension, the SpatiaLite loader and the time limits (503s); bound ``<int:…>`` route ids."""
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.register_error_handler(OverflowError, value_out_of_range)
    app.register_error_handler(DataError, value_out_of_range)
    app.before_request(refuse_nul_characters)
    configure(app)
    db.init_app(app)
    with app.app_context():
        bind_engine_events(db.engine)
    availability.init_app(app)
