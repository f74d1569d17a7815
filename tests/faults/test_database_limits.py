"""Every wait on PostgreSQL ends within its limit, on plain threads (the test app, the CLI).

The application talks to PostGIS through :class:`tests.faults.proxy.TcpProxy`; the proxy cuts the
connections or blackholes them (accepts, holds, answers nothing), and each kind of wait gives up
in time: an answer to a statement on an open connection, a checkout of an idle pooled connection
(its ping, then a new connection), a statement the server runs too long, ``/healthz``.
``test_database_outage.py`` does the same to ``python wsgi.py`` under gevent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from backend.availability import DatabaseNoAnswer, is_unavailable, limits

pytestmark = pytest.mark.slow

SLACK_S = 1.0  # scheduling (a busy machine, parallel test workers), the proxy's polling


@pytest.fixture
def proxied_app(app: Flask, proxied_url: str) -> Iterator[Flask]:
    """The application on the test's database, through the proxy (``app`` still cleans up after)."""
    from backend import create_app
    from backend.extensions import db

    through = create_app({"SQLALCHEMY_DATABASE_URI": proxied_url, "CARD_KEYS_DIR": app.config["CARD_KEYS_DIR"]})
    yield through
    with through.app_context():
        db.session.remove()
        db.engine.dispose()


def _timed(func: Any) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        func()
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def test_the_defaults_add_up_to_a_503_within_5_s(proxied_app):
    bounds = limits(proxied_app)
    assert bounds["answer"] == bounds["statement"] + 0.5
    # the longest path to a 503: wait for the pool, ping a stale connection, try a new one
    assert bounds["pool"] + bounds["ping"] + bounds["connect"] < 5
    assert bounds["answer"] < 5
    assert proxied_app.config["DB_UNAVAILABLE_AFTER_S"] < 5


def test_a_statement_that_gets_no_answer_gives_up_after_the_answer_timeout(proxied_app, db_proxy):
    from backend.extensions import db

    answer_s = limits(proxied_app)["answer"]
    with proxied_app.app_context():
        db.session.execute(text("SELECT 1"))  # a connection is checked out, a transaction open
        db_proxy.blackhole()
        elapsed, error = _timed(lambda: db.session.execute(text("SELECT 2")))
        assert isinstance(error, OperationalError) and isinstance(error.orig, DatabaseNoAnswer)
        assert error.connection_invalidated and is_unavailable(error)
        assert answer_s - 0.1 <= elapsed <= answer_s + SLACK_S
        db.session.remove()

        db_proxy.forward()
        assert db.session.execute(text("SELECT 3")).scalar() == 3  # a new connection, by itself
        db.session.remove()


def test_checkout_in_a_blackhole_pings_briefly_then_connects_briefly(proxied_app, db_proxy):
    from backend.extensions import db

    bounds = limits(proxied_app)
    with proxied_app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()  # an idle connection waits in the pool
        db_proxy.blackhole()
        elapsed, error = _timed(lambda: db.session.execute(text("SELECT 2")))
        assert isinstance(error, OperationalError) and is_unavailable(error), error
        assert elapsed <= bounds["ping"] + bounds["connect"] + SLACK_S
        db.session.remove()
        # the failed ping marked the whole pool stale: the next checkout only tries to connect
        elapsed, error = _timed(lambda: db.session.execute(text("SELECT 3")))
        assert isinstance(error, OperationalError) and is_unavailable(error), error
        assert elapsed <= bounds["connect"] + SLACK_S
        db.session.remove()


def test_a_cut_is_refused_at_once_and_the_pool_recovers(proxied_app, db_proxy):
    from backend.extensions import db

    with proxied_app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        db_proxy.cut()
        for _ in range(3):
            elapsed, error = _timed(lambda: db.session.execute(text("SELECT 2")))
            assert isinstance(error, OperationalError) and is_unavailable(error), error
            assert elapsed < 1
            db.session.remove()
        db_proxy.forward()
        assert db.session.execute(text("SELECT 3")).scalar() == 3
        db.session.remove()


def test_a_statement_past_the_statement_timeout_is_cancelled_by_the_server_and_is_a_503(proxied_app):
    from backend.extensions import db

    statement_s = limits(proxied_app)["statement"]
    proxied_app.add_url_rule("/_test/slow", "slow",
                             lambda: str(db.session.execute(text("SELECT pg_sleep(30)")).scalar()))
    client = proxied_app.test_client()
    started = time.monotonic()
    response = client.get("/_test/slow")
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["code"] == 503
    assert statement_s - 0.1 <= elapsed <= statement_s + SLACK_S
    assert client.get("/healthz").status_code == 200  # the connection is fine: only the statement was cancelled


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
def test_healthz_answers_within_2_s_whatever_the_database_does(proxied_app, db_proxy, fault):
    client = proxied_app.test_client()
    assert client.get("/healthz").status_code == 200
    getattr(db_proxy, fault)()
    for _ in range(4):  # the first meets a stale pooled connection, the others a hanging connect
        started = time.monotonic()
        response = client.get("/healthz")
        assert time.monotonic() - started < 2
        assert response.status_code == 503
        assert response.get_json()["status"] == "unavailable"
    db_proxy.forward()
    deadline = time.monotonic() + 10
    while client.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, "the service did not recover by itself"
        time.sleep(0.2)


def test_a_request_that_swallowed_its_lost_connection_still_answers_503_not_500(proxied_app, db_proxy):
    """Like an SOS whose optional position store fails: the error is caught, the commit then cannot happen."""
    from backend.extensions import db

    def view() -> str:
        db.session.execute(text("SELECT 1"))
        db_proxy.cut()
        try:
            with db.session.begin_nested():
                db.session.execute(text("SELECT 2"))
        except Exception:  # noqa: BLE001, S110 - what the view does with an optional part
            pass
        db.session.commit()
        return "stored"

    proxied_app.add_url_rule("/_test/swallowed", "swallowed", view)
    response = proxied_app.test_client().get("/_test/swallowed")
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
