"""A database that cannot serve a request in time is a 503 with Retry-After; a database bug stays a 500.

Real waits on both databases: another connection holds the lock a request needs, and the request
gives up after the statement timeout (PostgreSQL) or the (shortened) busy timeout (SpatiaLite).
The TCP faults (cut, blackhole) are in ``tests/faults``.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from backend.availability import DatabaseNoAnswer, DatabaseUnavailable, is_unavailable


@pytest.fixture
def app_config() -> dict[str, Any]:
    """A short SpatiaLite busy timeout (PostgreSQL keeps its statement timeout: the clean-up needs it)."""
    return {"DB_BUSY_TIMEOUT_MS": 400}


def _sos_body() -> dict[str, Any]:
    recorded = (datetime.now(UTC) - timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    return {"id": str(uuid.uuid4()), "lat": 7.8200, "lon": 98.2990, "recorded_at": recorded}


def _enrolled_phone(client, factories) -> dict[str, str]:  # noqa: ANN001
    card = factories.issued_card()
    response = client.post("/api/v1/mobile/enroll", json={
        "card_id": card["card_id"], "enrollment_code": card["enrollment_code"], "platform": "android"})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['device_token']}", "card_id": card["card_id"]}


class _WriteLock:
    """Another connection that holds what an SOS needs to write: SQLite's write lock, PostgreSQL's incidents table."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url

    def __enter__(self) -> _WriteLock:
        if self.url.startswith("sqlite"):
            import pysqlite3.dbapi2 as sqlite

            self.connection = sqlite.connect(make_url(self.url).database, isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")
        else:
            dsn = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
            self.connection = psycopg.connect(dsn)
            self.connection.execute("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.connection.rollback()
        self.connection.close()


def test_an_sos_that_cannot_get_its_lock_in_time_is_a_503_with_retry_after_then_stored_once(
        app, client, factories, database_url):
    from backend.dispatch.models import SosSignal
    from backend.extensions import db

    phone = _enrolled_phone(client, factories)
    headers = {"Authorization": phone["Authorization"]}
    body = _sos_body()
    limit_ms = app.config["DB_BUSY_TIMEOUT_MS" if database_url.startswith("sqlite") else "DB_STATEMENT_TIMEOUT_MS"]
    with _WriteLock(database_url):
        started = time.monotonic()
        response = client.post("/api/v1/mobile/sos", json=body, headers=headers)
        elapsed = time.monotonic() - started
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"] == "5"
    error = response.get_json()
    assert error["code"] == 503 and "database" in error["message"]
    assert limit_ms / 1000 - 0.1 <= elapsed < limit_ms / 1000 + 2

    # the phone sends the same SOS again: stored once
    again = client.post("/api/v1/mobile/sos", json=body, headers=headers)
    assert again.status_code == 201, again.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SosSignal)
                                 .where(SosSignal.client_id == body["id"])) == 1


def test_a_database_error_that_is_a_bug_is_not_masked_as_503(app, client):
    from backend.extensions import db

    app.add_url_rule("/_test/bug", "bug", lambda: str(db.session.execute(text("SELECT * FROM no_such_table")).all()))
    with pytest.raises(sa_exc.DBAPIError):  # the handler re-raised it: the testing app propagates it
        client.get("/_test/bug")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/_test/bug")
    assert response.status_code == 500
    assert response.get_json()["code"] == 500


def test_a_swallowed_bug_that_leaves_the_session_unusable_is_still_a_500(app, client):
    from backend.extensions import db
    from backend.jobs import JobLock

    def view() -> str:
        db.session.add_all([JobLock(name="twice"), JobLock(name="twice")])
        with contextlib.suppress(sa_exc.IntegrityError):  # a bug: the transaction is gone, the commit fails
            db.session.flush()
        db.session.commit()
        return "stored"

    app.add_url_rule("/_test/swallowed-bug", "swallowed_bug", view)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/_test/swallowed-bug")
    assert response.status_code == 500


@pytest.mark.parametrize(("error", "unavailable"), [
    (psycopg.OperationalError("connection failed: Connection refused"), True),
    (psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"), True),
    (psycopg.errors.ConnectionTimeout("connection timeout expired"), True),
    (DatabaseNoAnswer("the database did not answer within 3.5 s"), True),
    (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), True),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg.errors.TooManyConnections("sorry, too many clients already"), True),
    (psycopg.errors.UndefinedTable('relation "x" does not exist'), False),
    (psycopg.errors.UniqueViolation("duplicate key"), False),
    (psycopg.errors.DeadlockDetected("deadlock detected"), False),
    (sa_exc.TimeoutError("QueuePool limit of size 30 overflow 10 reached"), True),
    (DatabaseUnavailable("the ping writer could not store in time"), True),
    (sa_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection")), True),
    (sa_exc.ProgrammingError("SELECT x", {}, psycopg.errors.UndefinedColumn("column x does not exist")), False),
    (ValueError("not a database error at all"), False),
])
def test_only_connection_class_errors_count_as_unavailable(error: BaseException, unavailable: bool):
    assert is_unavailable(error) is unavailable


def test_sqlite_busy_is_unavailable_and_a_schema_error_is_not():
    import pysqlite3.dbapi2 as sqlite

    try:
        sqlite.connect(":memory:").execute("SELECT * FROM no_such_table")
    except sqlite.OperationalError as schema_error:
        assert not is_unavailable(schema_error)
    busy = sqlite.OperationalError("database is locked")
    busy.sqlite_errorcode = 5  # SQLITE_BUSY, as the driver sets it
    assert is_unavailable(busy)
