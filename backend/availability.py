"""When the database is slow or gone: every wait on it is bounded, and a lost database is a clear 503.

The contract: when the database cannot be reached or does not answer, every request that needs it
gets ``503 {code, message}`` with ``Retry-After`` within 5 s, ``GET /healthz`` answers within 2 s,
and the service recovers by itself. Without limits a request waits as long as the operating system
lets it: a new connection to a host that accepts and never answers, a query on a connection whose
packets vanish, a pool whose every connection is stuck, each hangs for minutes.

PostgreSQL, every wait has a limit (``app.config``, set from the environment, see the README):

- ``DB_CONNECT_TIMEOUT_S`` (2): libpq's ``connect_timeout`` (at least 2 s, per address tried).
- ``DB_STATEMENT_TIMEOUT_MS`` (3000): the server cancels a longer statement (``statement_timeout``).
- ``DB_ANSWER_TIMEOUT_S`` (statement timeout + 0.5 s): the client gives up on an answer that does
  not come — the server is hung, or the packets are dropped — closes that connection and raises
  :class:`DatabaseNoAnswer`. psycopg's wait loop takes the deadline (:class:`BoundedConnection`),
  so it holds on plain threads and under gevent alike.
- ``DB_PING_TIMEOUT_S`` (1): the pool's liveness check of an idle connection before it is handed
  out; one dead connection marks the whole pool stale, so the next checkouts reconnect at once.
- ``DB_POOL_TIMEOUT_S`` (1.5): the longest wait for a free connection of the pool.
- ``DB_TCP_USER_TIMEOUT_MS`` (4000) and TCP keepalives: the kernel drops a connection whose data
  stays unacknowledged (a real network blackhole), idle ones included.

The worst a request can wait before the 503 is pool + ping + connect (4.5 s with the defaults; in
practice a ping failure marks the pool stale, so it is ping + connect, 3 s). ``DB_UNAVAILABLE_AFTER_S``
(4.5) is what code waiting on the database from elsewhere (the ping writer) should wait at most.

SpatiaLite cannot be unreachable; a write waits ``DB_BUSY_TIMEOUT_MS`` (4000) for another writer's
lock, then it is a 503 too.

:func:`database_unavailable` is the one error handler: connection-class failures (refused, closed,
timed out, cancelled by the statement timeout, pool exhausted, server shutting down or out of
connections, SQLite busy) become the 503; any other database error — a bug — stays a 500.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from werkzeug.exceptions import ServiceUnavailable

from backend.extensions import api, db

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError:  # SpatiaLite-only installation
    psycopg = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

HEALTH_CHECK_S = 1.5  # /healthz answers within 2 s, whatever the database does
ANSWER_GRACE_S = 0.5  # the client waits this much longer than the server's statement timeout
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3, "keepalives_count": 3}
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
# SQLSTATEs of a database that is away or overwhelmed, not of a wrong statement: connection
# exceptions (08), insufficient resources (53: out of connections, memory, disk), system errors (58),
# shutdown or start-up (57P01-57P03), and a statement cancelled by the statement timeout (57014).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "58")
UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03", "57014")
_LOST_FLAG = "_pts_database_lost"


class DatabaseUnavailable(Exception):
    """The database cannot be used right now; answered as 503 with ``Retry-After`` (raise it freely)."""


def limits(app: Flask) -> dict[str, Any]:
    """The time limits of ``app``'s database, in seconds (derived values filled in; None: no limit)."""
    config = app.config
    statement_s = float(config["DB_STATEMENT_TIMEOUT_MS"]) / 1000
    answer_s = config.get("DB_ANSWER_TIMEOUT_S")
    if answer_s not in (None, ""):
        answer_s = float(answer_s)
    else:  # without a statement timeout, a statement may legitimately run long: no default answer limit
        answer_s = statement_s + ANSWER_GRACE_S if statement_s > 0 else None
    return {
        "connect": float(config["DB_CONNECT_TIMEOUT_S"]),
        "statement": statement_s,
        "answer": answer_s,
        "ping": float(config["DB_PING_TIMEOUT_S"]),
        "pool": float(config["DB_POOL_TIMEOUT_S"]),
    }


def postgres_engine_options(app: Flask, options: dict[str, Any], url_query: Any) -> None:
    """Fill PostgreSQL engine ``options`` with the limits (settings given explicitly win)."""
    bounds = limits(app)
    app.config["DB_ANSWER_TIMEOUT_S"] = bounds["answer"]
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_timeout", bounds["pool"])
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("connect_timeout", max(2, round(bounds["connect"])))
    if "options" not in url_query and int(app.config["DB_STATEMENT_TIMEOUT_MS"]) > 0:
        connect_args.setdefault("options", f"-c statement_timeout={int(app.config['DB_STATEMENT_TIMEOUT_MS'])}")
    for key, value in KEEPALIVES.items():
        connect_args.setdefault(key, value)
    connect_args.setdefault("tcp_user_timeout", int(app.config["DB_TCP_USER_TIMEOUT_MS"]))
    options["connect_args"] = connect_args


if psycopg is not None:

    class DatabaseNoAnswer(psycopg.OperationalError):
        """The database did not answer within the answer timeout; the connection was closed."""

    class BoundedConnection(psycopg.Connection):
        """A psycopg connection that waits at most ``answer_timeout`` seconds for any answer.

        Every round trip of psycopg (a statement, its rows, commit, rollback) goes through
        :meth:`wait`; a deadline of the caller's own (``notifies(timeout=…)``) is left alone.
        """

        answer_timeout: float | None = None

        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            """Consume ``gen``, giving up after the answer timeout (the connection is then closed)."""
            if timeout is not None or self.answer_timeout is None:
                return super().wait(gen, interval, timeout)
            try:
                return super().wait(gen, interval, self.answer_timeout)
            except pg_errors._WaitTimeout:  # noqa: SLF001 - psycopg's own deadline: the one exception it raises
                # a statement is in flight and its answer may still come: this connection is unusable
                self.close()
                raise DatabaseNoAnswer(f"the database did not answer within {self.answer_timeout:g} s") from None
else:  # pragma: no cover - SpatiaLite-only installation
    DatabaseNoAnswer = BoundedConnection = None  # type: ignore[assignment,misc]


def _set_answer_timeout(dbapi_connection: Any, seconds: float | None) -> None:
    if dbapi_connection is not None and isinstance(dbapi_connection, BoundedConnection):
        dbapi_connection.answer_timeout = seconds


def bind_postgres_limits(app: Flask, engine: Engine) -> None:
    """Connect through :class:`BoundedConnection`; ping idle connections with the short ping bound."""
    bounds = limits(app)

    @event.listens_for(engine, "do_connect")
    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.answer_timeout = bounds["answer"]
        return connection

    # the pool pings a connection that sat idle before it hands it out: that ping gets the short bound
    @event.listens_for(engine, "checkin")
    def checkin(dbapi_connection: Any, _record: Any) -> None:
        _set_answer_timeout(dbapi_connection, bounds["ping"])

    @event.listens_for(engine, "checkout")
    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        _set_answer_timeout(dbapi_connection, bounds["answer"])


def bind_sqlite_busy_timeout(engine: Engine, milliseconds: int) -> None:
    """How long a SQLite write waits for another writer's lock (after SpatiaLite, which sets its own 5 s)."""

    @event.listens_for(engine, "connect")
    def busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(milliseconds)}")


def note_lost_connection(context: Any) -> None:
    """Remember in the app context that this request lost its connection (see :func:`is_unavailable`)."""
    if (context.is_disconnect or is_unavailable(context.original_exception)) and has_app_context():
        setattr(g, _LOST_FLAG, True)


def _unavailable_dbapi_error(error: BaseException) -> bool:
    if psycopg is not None and isinstance(error, psycopg.Error):
        sqlstate = error.sqlstate
        if sqlstate is None:  # raised by the client: refused, closed, timed out, no answer
            return isinstance(error, psycopg.OperationalError)
        return sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in UNAVAILABLE_SQLSTATES
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


def is_unavailable(error: BaseException) -> bool:
    """True for the database being away or overwhelmed, False for any other error (a bug stays a bug)."""
    if isinstance(error, DatabaseUnavailable | sa_exc.TimeoutError):
        return True
    if isinstance(error, sa_exc.PendingRollbackError):  # its transaction's connection was lost before
        return has_app_context() and bool(getattr(g, _LOST_FLAG, False))
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or _unavailable_dbapi_error(error.orig)
    return _unavailable_dbapi_error(error)


def is_lost(error: BaseException) -> bool:
    """True when the database itself is away (connection refused, closed, silent, shutting down),
    not merely slow for one statement (a statement or lock timeout, SQLite busy)."""
    if not is_unavailable(error):
        return False
    cause = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    if psycopg is not None and isinstance(cause, psycopg.Error) and cause.sqlstate == "57014":
        return False  # the server cancelled one statement: it is there
    return getattr(cause, "sqlite_errorcode", None) is None  # SQLite busy is a lock wait


def discard_session() -> None:
    """Give up the request's session; a connection that cannot roll back is dropped, not waited on."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is already broken: drop it
        db.session.invalidate()


def database_unavailable(error: Exception) -> Any:
    """The error handler: a lost or unresponsive database is ``503`` + ``Retry-After``; anything else re-raises."""
    if not is_unavailable(error):
        raise error
    discard_session()
    retry_after = int(current_app.config["DB_RETRY_AFTER_S"])
    log.warning("database unavailable, answered 503: %s: %s", type(error).__name__, str(error).strip()[:300])
    refusal = ServiceUnavailable()
    refusal.data = {"message": f"the database is not available right now; try again in {retry_after} s",  # type: ignore[attr-defined]
                    "headers": {"Retry-After": str(retry_after)}}
    return api.handle_http_exception(refusal)


def error_classes() -> list[type[BaseException]]:
    """The exception classes the handler is registered for (it decides which of them are outages)."""
    classes: list[type[BaseException]] = [DatabaseUnavailable, sa_exc.OperationalError, sa_exc.InterfaceError,
                                          sa_exc.TimeoutError, sa_exc.PendingRollbackError]
    if psycopg is not None:
        classes += [psycopg.OperationalError, psycopg.InterfaceError]
    return classes


class _Check:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False


_check_lock = threading.Lock()


def database_answers(app: Flask, *, within: float = HEALTH_CHECK_S) -> bool:
    """Whether the database answers ``SELECT 1`` within ``within`` seconds, whatever it is doing.

    The check runs in a thread of its own (a greenlet under gevent) and the caller waits for it at
    most ``within``: a connect or a ping that hangs holds that thread (until its own limits end it),
    never the caller. One check runs at a time; callers meanwhile share its answer.
    """
    with _check_lock:
        check = app.extensions.get("pts_database_check")
        if check is None:
            check = app.extensions["pts_database_check"] = _Check()
            threading.Thread(target=_run_check, args=(app, check), name="database-check", daemon=True).start()
    check.done.wait(within)
    return check.ok


def _run_check(app: Flask, check: _Check) -> None:
    try:
        with app.app_context(), db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        check.ok = True
    except Exception as exc:  # noqa: BLE001 - any failure is "not answering"
        log.warning("database check failed: %s: %s", type(exc).__name__, str(exc).strip()[:300])
    finally:
        with _check_lock:
            if app.extensions.get("pts_database_check") is check:
                del app.extensions["pts_database_check"]
        check.done.set()


@contextmanager
def unhurried(connection: Connection) -> Iterator[Connection]:
    """Lift the statement and answer limits on ``connection`` for long maintenance (migrations, purges).

    The connection is discarded afterwards, so no request ever gets one without limits.
    """
    if connection.dialect.name != "postgresql":
        yield connection
        return
    _set_answer_timeout(connection.connection.dbapi_connection, None)
    connection.exec_driver_sql("SET statement_timeout = 0")
    connection.commit()  # a session setting: it stays, and the caller begins its own transaction
    try:
        yield connection
    finally:
        connection.invalidate()


def long_transaction() -> None:
    """Lift the statement and answer limits for the rest of the session's transaction (PostgreSQL).

    For periodic jobs that may legitimately take long (the retention purge); the pool puts the
    limits back on the connection when it is checked in and out again.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
    _set_answer_timeout(connection.connection.dbapi_connection, None)


def init_app(app: Flask) -> None:
    """Register the 503 handler and, for PostgreSQL, the connection limits (after ``db.init_app``)."""
    for error_class in error_classes():
        app.register_error_handler(error_class, database_unavailable)
    with app.app_context():
        engine = db.engine
        event.listen(engine, "handle_error", note_lost_connection)
        if engine.dialect.name == "postgresql" and BoundedConnection is not None:
            bind_postgres_limits(app, engine)
        elif engine.dialect.name == "sqlite":
            bind_sqlite_busy_timeout(engine, int(app.config["DB_BUSY_TIMEOUT_MS"]))
