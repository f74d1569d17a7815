"""Where a ping request's time goes: cProfile of N single-ping requests through the whole app.

    .venv/bin/python -m bench.profile_pings --db postgis --requests 2000

Runs in-process with Flask's test client (no HTTP server, no load generator), so the CPU time
per request and the hottest functions are measured even on a busy machine. Prints wall and
CPU time per request and the top functions by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.pings import AREAS, SECRET, create_database, drop_database


def main(argv: list[str] | None = None) -> None:
    """Profile ping requests."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgis", "spatialite"], default="postgis")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--no-profile", action="store_true", help="time only (no profiler overhead)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="pts-profile-"))
    url, pg_name = create_database(args.db, workdir)
    os.environ.update({"DATABASE_URL": url, "SECRET_KEY": SECRET, "RUN_PERIODIC_JOBS": "0",
                       "INSTANCE_PATH": str(workdir / "instance"), "CARD_KEYS_DIR": str(workdir / "keys"),
                       "LOG_LEVEL": "WARNING"})
    try:
        from bench.pings import prepare

        tokens = prepare(args.devices)
        from backend import create_app

        client = create_app().test_client()

        def one(n: int) -> None:
            (lat, lon), jitter = AREAS[n % len(AREAS)]
            body = {"pings": [{"id": str(uuid.uuid4()), "lat": lat + jitter / 2, "lon": lon - jitter / 2,
                               "recorded_at": datetime.now(UTC).isoformat(), "accuracy_m": 10.0}]}
            response = client.post("/api/v1/mobile/pings", data=json.dumps(body), content_type="application/json",
                                   headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"})
            assert response.status_code == 200, response.get_json()

        for n in range(200):  # warm-up: caches, connections, first positions
            one(n)
        profiler = cProfile.Profile()
        wall, cpu = time.perf_counter(), time.process_time()
        if not args.no_profile:
            profiler.enable()
        for n in range(args.requests):
            one(n)
        profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        overhead = "" if args.no_profile else " (profiler overhead included)"
        print(f"{args.db}: {args.requests} ping requests, {1000 * wall / args.requests:.2f} ms wall and "
              f"{1000 * cpu / args.requests:.2f} ms CPU of this process per request{overhead}")
        if args.no_profile:
            return
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(out.getvalue())
    finally:
        if pg_name:
            drop_database(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
