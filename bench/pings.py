"""The benchmark's fixtures: a fresh database with enrolled devices, and server processes.

Used by ``python -m bench.run`` (``make bench``) and ``python -m bench.profile_pings``:

- :func:`create_database` / :func:`drop_database`: a new PostgreSQL + PostGIS database (or a
  SpatiaLite file in a temporary folder), dropped afterwards;
- :func:`prepare`: migrate, seed Phuket's zones (so the geofence rules do their real spatial work
  on every ping), and give ``devices`` cards one enrolled device each; their device tokens;
- :func:`create_dispatcher`: a dispatcher account for the Socket.IO console;
- :func:`start_server` / :func:`stop_server`: ``python wsgi.py`` (the service) or
  ``python -m bench.bare`` (the reference, same :func:`backend.server.serve`), each in its own
  process group so that gunicorn's master and worker end together.
"""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-" + secrets.token_hex(16)
# Where the simulated phones are: mostly on the island, some at sea (lat, lon, jitter in degrees).
AREAS = [((7.8804, 98.3923), 0.01), ((7.8955, 98.2990), 0.003), ((7.8205, 98.2990), 0.003),
         ((7.80, 98.37), 0.02)]


def machine() -> dict[str, str]:
    """nproc, CPU model, memory and load: what the numbers were measured on."""
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": f"{mem_gib:.0f} GiB",
            "python": platform.python_version(), "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def free_port() -> int:
    """A free loopback port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(kind: str, workdir: Path) -> tuple[str, str | None]:
    """A fresh database URL (and the PostgreSQL database name to drop afterwards)."""
    if kind == "spatialite":
        return f"sqlite:///{workdir / 'bench.sqlite'}", None
    import psycopg

    name = f"pts_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", name


def drop_database(name: str) -> None:
    """Drop the benchmark's PostgreSQL database."""
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def prepare(devices: int) -> list[str]:
    """Migrate, seed Phuket's zones, and give ``devices`` cards one enrolled device each; their tokens."""
    from flask_migrate import upgrade

    from backend import create_app
    from backend.auth.tokens import TokenKind, encode
    from backend.cards.models import Card, Tourist
    from backend.extensions import db
    from backend.models_base import utcnow
    from backend.tracking.devices import token_hash
    from backend.tracking.models import Device
    from geo.seed import seed

    app = create_app()
    tokens = []
    with app.app_context():
        upgrade()
        seed()
        now = utcnow()
        cards, devices_ = [], []
        for i in range(devices):
            card = Card(id=f"BENCH{i:06d}", tourist=Tourist(full_name=f"Bench Tourist {i}", nationality="DEU",
                                                             passport_number=f"B{i:08d}", language="en"),
                        kind="tourist", status="active", checkpoint="HKT", jti=f"bench-{i}", kid="bench",
                        stay_until=date.today() + timedelta(days=14), issued_at=now - timedelta(days=1),
                        expires_at=now + timedelta(days=14))
            device = Device(id=str(uuid.uuid4()), card_id=card.id, platform="android",
                            osmand_id=secrets.token_urlsafe(24), created_at=now)
            token = encode(TokenKind.DEVICE, device.id, ttl_s=None, claims={"card": card.id})
            device.token_hash = token_hash(token)
            cards.append(card)
            devices_.append(device)
            tokens.append(token)
        db.session.add_all(cards)
        db.session.flush()
        db.session.add_all(devices_)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return tokens


def card_id(i: int) -> str:
    """The id of the ``i``-th benchmark card (device ``i`` of :func:`prepare`)."""
    return f"BENCH{i:06d}"


def create_dispatcher(username: str, password: str) -> None:
    """A dispatcher account (signs in through ``POST /api/v1/auth/login``)."""
    from backend import create_app
    from backend.auth.models import Role
    from backend.auth.service import create_user
    from backend.extensions import db

    app = create_app()
    with app.app_context():
        create_user(username=username, password=password, role=Role.DISPATCHER, full_name="Bench Dispatcher")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def count_pings() -> int:
    """Pings stored in the benchmark database."""
    from sqlalchemy import func, select

    from backend import create_app
    from backend.extensions import db
    from backend.tracking.models import Ping

    app = create_app()
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Ping))
        db.engine.dispose()
        return count


SERVERS = {"service": [sys.executable, "wsgi.py"], "bare": [sys.executable, "-m", "bench.bare"]}


def start_server(kind: str, env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    """``python wsgi.py`` (``service``) or ``python -m bench.bare`` (``bare``) on ``port``, in a new session."""
    log = open(log_path, "ab")  # noqa: SIM115 - the child keeps it
    try:
        return subprocess.Popen(SERVERS[kind], cwd=ROOT, env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


def wait_healthy(port: int, process: subprocess.Popen, path: str = "/healthz", timeout_s: float = 60) -> None:
    """Wait for ``path`` to answer 200."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited (status {process.returncode})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server on port {port} did not come up within {timeout_s:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    """Stop the server's process group (gunicorn's master and its worker): TERM, then KILL."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # the worker may outlive a master that was killed: take the whole group down
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
