"""Fault tests: the service and PostGIS with a TCP proxy between them that cuts and blackholes.

PostGIS only (a network between the service and its database is a PostgreSQL matter); like every
PostGIS test, mandatory under ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.faults.proxy import TcpProxy


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostGIS only, through the session's migrated database."""
    return postgres_url


@pytest.fixture
def db_proxy(postgres_url: str) -> Iterator[TcpProxy]:
    """A TCP proxy in front of the test's PostgreSQL server, forwarding."""
    url = make_url(postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_url(postgres_url: str, db_proxy: TcpProxy) -> str:
    """The test database's URL, through the proxy."""
    url = make_url(postgres_url).set(host="127.0.0.1", port=db_proxy.port)
    return url.render_as_string(hide_password=False)
