"""Shared fixtures: ``app`` on both databases, ``client``, ``runner``, ``auth`` and factories.

Every test that uses ``app`` runs twice: on SpatiaLite and on PostgreSQL + PostGIS. PostGIS
is used whenever it is reachable (or ``TEST_DATABASE_URL`` is set) and is mandatory under
``CI=true``: there a missing PostGIS is a failure, never a skip. ``--db spatialite`` (or
``--db postgis``, or ``TEST_DB=…``) keeps only the tests of one database, for the edit loop.

The one exception is a browser flow (``@pytest.mark.browser``): it runs once, on the embedded
SpatiaLite that ``make run`` serves (:data:`BROWSER_DATABASE`). What a page shows does not depend
on the database behind the server, and every API a page calls is tested on both databases. A
browser test that names its own database (a module's own ``database_url``, or a ``parametrize``
of it) keeps it: the PostGIS-only flows (two servers sharing one database) stay on PostGIS.

The suite runs in parallel (``make test``: pytest-xdist), so nothing here is shared between
workers except the migrated SpatiaLite template, made once per run under a lock: each worker has
its own PostGIS database, temporary folders and free ports.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import db as testdb

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
_PG_OK, _PG_WHY = testdb.postgres_available()


DATABASES = ("spatialite", "postgis")
# the one database of the browser flows: the embedded one that ``make run`` serves
BROWSER_DATABASE = "spatialite"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--db``: run the database tests on one database only."""
    parser.addoption("--db", choices=(*DATABASES, "both"), default=os.environ.get("TEST_DB") or "both",
                     help="spatialite or postgis: only the tests on that database (default both; env TEST_DB)")


def pytest_configure(config: pytest.Config) -> None:
    """Fail fast under CI when PostGIS is missing (unless only SpatiaLite was asked for)."""
    if config.getoption("db") not in (*DATABASES, "both"):
        raise pytest.UsageError(f"--db (TEST_DB) must be spatialite, postgis or both, not {config.getoption('db')!r}")
    if os.environ.get("CI", "").lower() == "true" and not _PG_OK and config.getoption("db") != "spatialite":
        raise pytest.UsageError(f"CI=true requires PostgreSQL with PostGIS: {_PG_WHY}")
    if os.environ.get("TEST_DATABASE_URL") and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("TEST_DATABASE_URL is one database for one process: run with -n 0 (make test JOBS=0)")


def database_of(item: pytest.Item) -> str | None:
    """The database a collected test runs on, or None for a test that uses none."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "database_url" in callspec.params:
        return callspec.params["database_url"]
    fixtures = getattr(item, "fixturenames", ())
    if "postgres_url" in fixtures:  # a module whose database_url is PostGIS only
        return "postgis"
    return "spatialite" if "sqlite_template" in fixtures else None


@pytest.hookimpl(tryfirst=True)  # before the parametrize marks and the fixtures' params are read
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A browser flow runs on :data:`BROWSER_DATABASE` only, unless it names its database itself.

    The pages run in Chromium and talk to the server over HTTP and Socket.IO; what they show does
    not depend on the database behind it, and every API they call is tested on both databases.
    """
    if "database_url" not in metafunc.fixturenames or metafunc.definition.get_closest_marker("browser") is None:
        return
    definitions = metafunc._arg2fixturedefs.get("database_url") or ()
    if not definitions or not definitions[-1].params:  # a module's own database_url (PostGIS only)
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if "database_url" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            return
    metafunc.definition.add_marker(pytest.mark.parametrize("database_url", [BROWSER_DATABASE], indirect=True))


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that starts ``python wsgi.py`` is ``slow``; ``--db`` leaves out the other database's tests."""
    for item in items:
        if "start_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    wanted = config.getoption("db")
    if wanted == "both":
        return
    dropped = [item for item in items if database_of(item) not in (None, wanted)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if database_of(item) in (None, wanted)]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop this process's Playwright driver (:func:`tests.browser.shared_playwright`), if a test started it."""
    from tests.browser import stop_shared_playwright

    stop_shared_playwright()


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run shares (the run's base temp), else this session's."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SpatiaLite file migrated to head once per run, by whichever worker needs it first."""
    folder = run_folder(tmp_path_factory)
    path = folder / "spatialite-template.sqlite"
    with open(folder / "spatialite-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait for the first one's migration
        if not path.exists():
            partial = folder / "spatialite-template.partial"
            partial.unlink(missing_ok=True)
            testdb.migrate(f"sqlite:///{partial}")
            partial.rename(path)
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostGIS database migrated to head once per session, dropped at the end."""
    if not _PG_OK:
        pytest.skip(_PG_WHY)
    url, name = testdb.create_postgres_database()
    try:
        testdb.migrate(url)
        yield url
    finally:
        if name:
            testdb.drop_postgres_database(name)


@pytest.fixture(params=["spatialite", "postgis"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean database of each kind for one test."""
    if request.param == "spatialite":
        return testdb.fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "test.sqlite")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    """Extra settings a test module may override (before ``app`` is built)."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_config: dict[str, Any]):
    """The application bound to a clean database."""
    from backend import create_app
    from backend.extensions import db

    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CARD_KEYS_DIR": str(tmp_path / "keys"),
        **app_config,
    }
    app = create_app(config)
    app.config["INSTANCE_FOR_TESTS"] = str(tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if database_url.startswith("postgresql"):
        testdb.truncate_all(database_url)


@pytest.fixture
def start_server(app, tmp_path: Path) -> Iterator:
    """Start ``python wsgi.py`` processes on the test's database, secret and card keys.

    ``start(name, port=None, **env)`` returns a :class:`tests.live_server.LiveServer`; every server is
    killed after the test (:meth:`~tests.live_server.LiveServer.discard`).
    """
    from tests.live_server import LiveServer

    servers: list[LiveServer] = []

    def start(name: str = "server", *, port: int | None = None, **extra_env: str) -> LiveServer:
        server = LiveServer(database_url=app.config["SQLALCHEMY_DATABASE_URI"], secret_key=app.config["SECRET_KEY"],
                            card_keys_dir=app.config["CARD_KEYS_DIR"], workdir=tmp_path, extra_env=extra_env,
                            name=name, port=port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.discard()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


class AuthActions:
    """Create staff accounts and sign them in, for tests."""

    def __init__(self, app, client) -> None:  # noqa: ANN001
        self._app = app
        self._client = client
        self._count = 0

    def user(self, role: str, *, hotel_id: int | None = None, username: str | None = None,
             password: str = "correct horse battery") -> Any:
        """Create a staff account with ``role`` and return it."""
        from backend.auth import service
        from backend.auth.models import Role
        from backend.extensions import db

        self._count += 1
        with self._app.app_context():
            user = service.create_user(username=username or f"{role}{self._count}", password=password,
                                       role=Role(role), hotel_id=hotel_id)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    def token(self, role: str, *, hotel_id: int | None = None) -> str:
        """An access token of a new account with ``role``."""
        user = self.user(role, hotel_id=hotel_id)
        response = self._client.post("/api/v1/auth/login",
                                     json={"username": user.username, "password": "correct horse battery"})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def headers(self, role: str, *, hotel_id: int | None = None) -> dict[str, str]:
        """Authorization headers for a new account with ``role``."""
        return {"Authorization": f"Bearer {self.token(role, hotel_id=hotel_id)}"}


@pytest.fixture
def auth(app, client) -> AuthActions:
    """Staff accounts and tokens."""
    return AuthActions(app, client)


class Factories:
    """Rows made directly in the database, for tests of other domains."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self._app = app
        self._count = 0

    def hotel(self, *, name: str = "Patong Beach Hotel", lat: float = 7.8955, lon: float = 98.2990) -> int:
        """A hotel; returns its id."""
        from backend.extensions import db
        from backend.hotels.service import create_hotel

        with self._app.app_context():
            hotel = create_hotel(name=name, lat=lat, lon=lon, sha_plus_cert="SHA-0001")
            db.session.commit()
            return hotel.id

    def card(self, *, full_name: str = "Anna Schmidt", nationality: str = "DEU", language: str = "en",
             days: int = 14, status: str = "active", phone: str | None = "+49 30 1234567") -> str:
        """A card row and its holder, without a signed token; returns the card id.

        Tests of the cards domain use the real issuance service instead.
        """
        from backend.cards.models import Card, Tourist
        from backend.extensions import db
        from backend.models_base import utcnow

        self._count += 1
        with self._app.app_context():
            tourist = Tourist(full_name=full_name, nationality=nationality, passport_number=f"P{self._count:07d}",
                              language=language, phone=phone)
            stay_until = date.today() + timedelta(days=days)
            card = Card(id=f"TEST{self._count:04d}", tourist=tourist, kind="tourist", status=status,
                        checkpoint="HKT", jti=f"jti-test-{self._count}", kid="test",
                        stay_until=stay_until, expires_at=utcnow() + timedelta(days=days))
            db.session.add(card)
            db.session.commit()
            return card.id


@pytest.fixture
def factories(app) -> Factories:
    """Row factories."""
    return Factories(app)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests save screenshots and other evidence (``test-artifacts/``)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _factories_issued_card(self: Factories, **overrides: Any) -> dict[str, str]:
    """A card issued through the real service (signed token, enrollment code).

    Returns ``{"card_id", "card_token", "enrollment_code"}``. Every call gets its own passport
    number unless one is given (one active card per passport: a second card revokes the first).
    """
    from backend.cards.service import issue_card
    from backend.extensions import db

    self._count += 1
    fields: dict[str, Any] = {
        "full_name": "Anna Schmidt",
        "nationality": "DEU",
        "passport_number": f"C{os.getpid() % 10000:04d}{self._count:05d}",
        "checkpoint": "HKT",
        "stay_until": date.today() + timedelta(days=14),
        "issued_by": None,
        "phone": "+49 30 1234567",
        "language": "en",
        **overrides,
    }
    with self._app.app_context():
        issued = issue_card(**fields)
        db.session.commit()
        return {"card_id": issued.card.id, "card_token": issued.card_token, "enrollment_code": issued.enrollment_code}


Factories.issued_card = _factories_issued_card  # type: ignore[attr-defined]
