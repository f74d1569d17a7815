"""Ping throughput: one ping per request from many devices, against the same server's /healthz.

    .venv/bin/python -m bench.pings --db postgis      # or --db spatialite
    .venv/bin/python -m bench.pings --db postgis --server both   # also a 2-worker gunicorn REST tier

A fresh database is migrated and seeded (Phuket's zones, so the geofence rules do real work),
``--devices`` cards are given an enrolled device each, the server is started as in production
(``python wsgi.py``: one process, gthread), and an asyncio client drives keep-alive connections
on the loopback: first ``GET /healthz`` (the ceiling: routing, one ``SELECT 1``), then
``POST /api/v1/mobile/pings`` with one new ping per request, round-robin over the devices. Each
run is bounded (``--warmup`` + ``--duration`` seconds). Results are printed as JSON and as a
Markdown table row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
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
    from backend.tracking.models import Device
    from geo.seed import seed
    from mobile_api.auth import token_hash

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


def start_server(kind: str, env: dict[str, str], port: int, workers: int, log_path: Path) -> subprocess.Popen:
    """``python wsgi.py`` (production single process) or a multi-worker gunicorn REST tier."""
    if kind == "wsgi":
        command = [sys.executable, "wsgi.py"]
    else:
        command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads", "16",
                   "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    log = open(log_path, "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(command, cwd=ROOT, env={**env, "PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_healthy(port: int, process: subprocess.Popen, timeout_s: float = 60) -> None:
    """Wait for /healthz to answer 200."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not come up")


def stop_server(process: subprocess.Popen) -> None:
    """Stop the server's process group."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def ping_request_factory(tokens: list[str], host: str):  # noqa: ANN201
    """Request n: one new ping of device n mod len(tokens), at the current time."""
    from bench.loadgen import request

    rng = random.Random(42)
    headers = [{"Authorization": f"Bearer {t}", "Content-Type": "application/json"} for t in tokens]

    def make(n: int) -> bytes:
        (lat, lon), jitter = AREAS[n % len(AREAS)]
        body = json.dumps({"pings": [{
            "id": str(uuid.uuid4()), "lat": round(lat + rng.uniform(-jitter, jitter), 6),
            "lon": round(lon + rng.uniform(-jitter, jitter), 6),
            "recorded_at": datetime.now(UTC).isoformat(), "accuracy_m": 10.0, "battery_pct": 80}]}).encode()
        return request("POST", "/api/v1/mobile/pings", host, headers=headers[n % len(headers)], body=body)

    return make


def measure(port: int, tokens: list[str], connections: int, warmup_s: float, duration_s: float) -> dict:
    """The /healthz ceiling, then pings, on one running server."""
    from bench import loadgen

    host = f"127.0.0.1:{port}"
    health = loadgen.request("GET", "/healthz", host)
    ceiling = loadgen.run("127.0.0.1", port, lambda _n: health, connections=connections, warmup_s=warmup_s,
                          duration_s=duration_s)
    pings = loadgen.run("127.0.0.1", port, ping_request_factory(tokens, host), connections=connections,
                        warmup_s=warmup_s, duration_s=duration_s)
    return {"healthz": ceiling.summary(), "pings": pings.summary()}


def profile(process: subprocess.Popen, port: int, tokens: list[str], connections: int, seconds: float,
            out: Path) -> str | None:
    """Sample the server with py-spy while it takes pings; the path of the flame graph (or None)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return None
    recorder = subprocess.Popen([spy, "record", "--pid", str(process.pid), "--duration", str(int(seconds)),
                                 "--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking",
                                 "--subprocesses", "--gil"],  # gunicorn: the worker is a child of the master
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from bench import loadgen

    loadgen.run("127.0.0.1", port, ping_request_factory(tokens, f"127.0.0.1:{port}"), connections=connections,
                warmup_s=0, duration_s=seconds + 1)
    recorder.wait(timeout=60)
    return str(out) if out.exists() else None


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; prints and returns the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgis", "spatialite"], default="postgis")
    parser.add_argument("--server", choices=["wsgi", "gunicorn", "both"], default="wsgi")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn REST tier workers")
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--profile", type=Path, default=None, help="write a py-spy profile (raw/collapsed) here")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="pts-bench-"))
    url, pg_name = create_database(args.db, workdir)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "RUN_PERIODIC_JOBS": "0",
           "INSTANCE_PATH": str(workdir / "instance"), "CARD_KEYS_DIR": str(workdir / "keys"), "HOST": "127.0.0.1",
           "LOG_LEVEL": "WARNING", "SOCKETIO_CHANNEL": f"pts-bench-{uuid.uuid4().hex}"}
    os.environ.update(env)
    results: dict = {"command": "python -m bench.pings " + " ".join(argv if argv is not None else sys.argv[1:]),
                     "db": args.db, "machine": machine(), "devices": args.devices, "connections": args.connections,
                     "duration_s": args.duration, "runs": {}}
    try:
        tokens = prepare(args.devices)
        for kind in (["wsgi", "gunicorn"] if args.server == "both" else [args.server]):
            port = free_port()
            process = start_server(kind, env, port, args.workers, workdir / f"{kind}.log")
            try:
                wait_healthy(port, process)
                label = "python wsgi.py" if kind == "wsgi" else f"gunicorn -w {args.workers} (REST tier)"
                results["runs"][label] = measure(port, tokens, args.connections, args.warmup, args.duration)
                if args.profile and kind == "wsgi":
                    results["profile"] = profile(process, port, tokens, args.connections, 10, args.profile)
            finally:
                stop_server(process)
        results["pings_stored"] = count_pings()
        results["machine"]["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    finally:
        if pg_name:
            drop_database(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    for label, run in results["runs"].items():
        h, p = run["healthz"], run["pings"]
        print(f"| {args.db} | {label} | {h['requests_per_s']:.0f} | {h['p50_ms']:.1f} / {h['p99_ms']:.1f} | "
              f"{p['requests_per_s']:.0f} | {p['p50_ms']:.1f} / {p['p99_ms']:.1f} | {p['statuses']} |")
    return results


if __name__ == "__main__":
    main()
