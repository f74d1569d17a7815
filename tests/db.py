"""Test databases: one migrated SpatiaLite template and one PostGIS database per test session.

Every test gets a clean database: a fresh copy of the migrated SpatiaLite file, or the
PostGIS database with every table emptied after the test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> tuple[bool, str]:
    """Whether a PostgreSQL server with PostGIS can be reached for tests (and why not)."""
    if os.environ.get("TEST_DATABASE_URL"):
        return True, ""
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
            if row is None:
                return False, "PostgreSQL is reachable but PostGIS is not installed"
    except psycopg.Error as exc:
        return False, f"PostgreSQL not reachable: {exc}"
    return True, ""


def create_postgres_database() -> tuple[str, str | None]:
    """Create a fresh database for this session; returns (sqlalchemy URL, name to drop or None)."""
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"], None
    name = f"pts_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", name


def drop_postgres_database(name: str) -> None:
    """Drop a session database (terminating leftover connections)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def migrate(url: str) -> None:
    """Run the Alembic migrations to head against ``url`` (the real ``flask db upgrade`` path)."""
    from flask_migrate import upgrade

    from backend import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        from backend.extensions import db

        db.session.remove()
        db.engine.dispose()


def fresh_sqlite(template: Path, target: Path) -> str:
    """Copy the migrated template to ``target`` and return its URL."""
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def truncate_all(url: str) -> None:
    """Empty every application table of a PostgreSQL database (keeps PostGIS's own tables).

    Only the tables a test wrote to are emptied (one query finds them; a test writes to a few), and
    every sequence that was used starts again. They are emptied with ``DELETE``, with the foreign
    keys' triggers off for this transaction (``session_replication_role = replica``, so the order
    does not matter): a ``TRUNCATE … CASCADE`` of even one table took 0.24 s (it makes new files for
    every table the cascade reaches and their indexes), a ``DELETE`` of a test's few rows 1–2 ms;
    over the ~900 PostGIS tests that was the largest part of their teardown.

    The clean-up runs on its own plain connection without a statement timeout: the application's
    connections give up after 3 s (``DB_STATEMENT_TIMEOUT_MS``, the client's answer timeout), which
    a clean-up on a machine running four workers and five other suites can exceed, and a clean-up
    that gave up left its rows to the next test (seen in a full run at load 26).
    A role that is not a superuser cannot turn the triggers off and gets ``TRUNCATE … CASCADE``.
    """
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=False) as conn:
        conn.execute("SET LOCAL statement_timeout = 0")
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('spatial_ref_sys', 'alembic_version')")]
        written = [r[0] for r in conn.execute(" UNION ALL ".join(
            f"SELECT '{n}' WHERE EXISTS (SELECT FROM \"{n}\")" for n in names))] if names else []
        if written and _may_skip_foreign_keys(conn):
            conn.execute("SET LOCAL session_replication_role = replica")
            for name in written:
                conn.execute(f'DELETE FROM "{name}"')
        elif written:  # not a superuser (a TEST_DATABASE_URL of one's own): the slow, sure way
            conn.execute("TRUNCATE " + ", ".join(f'"{n}"' for n in written) + " CASCADE")
        conn.execute("SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
                     "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL")


def _may_skip_foreign_keys(conn: psycopg.Connection) -> bool:
    """Whether this connection's role may set ``session_replication_role`` (a superuser)."""
    return bool(conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0])
