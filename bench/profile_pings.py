"""Where a ping request's time goes: cProfile of N ping requests through the whole app, writer included.

    .venv/bin/python -m bench.profile_pings --db postgis --requests 2000
    .venv/bin/python -m bench.profile_pings --db postgis --moving --concurrency 16   # like bench.run's load

Runs in-process with Flask's test client (no HTTP server, no load generator), so the CPU time
per request and the hottest functions are measured even on a busy machine. A ping request only
queues its pings and waits: the ping writer's thread stores them (``backend.tracking.writer``),
and cProfile sees one thread only, so the request threads and the writer's group commits
(``PingWriter._commit``) are profiled apart and reported apart. For the writer it also counts the
SQL statements of every group (a ``before_cursor_execute`` listener) with their database time
(until ``after_cursor_execute``): statements per group by text, the group sizes and the writer's
CPU and wall time per group — the figures to compare between two commits.

``--moving`` sends what ``bench/requests.lua`` sends (each device jumps between the four areas,
random jitter, so the geofence rules raise and update incidents as under ``bench.run``); without
it every device repeats one position. ``--concurrency N`` sends from N threads, so that groups of
several requests form as in the server.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.pings import AREAS, SECRET, create_database, drop_database


class WriterProbe:
    """Profiles the ping writer's group commits and counts each group's SQL statements and their time."""

    def __init__(self, *, profile: bool) -> None:
        self.profile = profile
        self.recording = False
        self._local = threading.local()
        self._lock = threading.Lock()
        self.profilers: list[cProfile.Profile] = []
        self.groups: list[tuple[int, int, float, float]] = []  # (requests, statements, wall s, thread CPU s)
        self.statements: collections.Counter[str] = collections.Counter()
        self.db_s: collections.Counter[str] = collections.Counter()

    def install(self) -> None:
        """Wrap ``PingWriter._commit`` and listen to every engine's cursor executions."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        from backend.tracking import writer

        probe, commit = self, writer.PingWriter._commit

        def measured_commit(self_: Any, batch: list[Any]) -> Any:
            return probe._measure(commit, self_, batch)

        writer.PingWriter._commit = measured_commit  # type: ignore[method-assign]
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)

    def _measure(self, commit: Any, writer: Any, batch: list[Any]) -> Any:
        local = self._local
        local.statements, local.started = [], 0.0
        profiler = getattr(local, "profiler", None)
        if self.profile and profiler is None:
            profiler = local.profiler = cProfile.Profile()
            with self._lock:
                self.profilers.append(profiler)
        wall, cpu = time.perf_counter(), time.thread_time()
        if self.recording and profiler is not None:
            profiler.enable()
        try:
            return commit(writer, batch)
        finally:
            if profiler is not None:
                profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            if self.recording:
                with self._lock:
                    self.groups.append((len(batch), len(local.statements), wall, cpu))
                    for text, seconds in local.statements:
                        self.statements[text] += 1
                        self.db_s[text] += seconds
            local.statements = None

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if getattr(self._local, "statements", None) is not None:
            self._local.started = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements = getattr(self._local, "statements", None)
        if statements is not None:
            statements.append((" ".join(statement.split())[:100], time.perf_counter() - self._local.started))

    def report(self, top: int) -> str:
        """Group sizes, statements per group with their database time, and the writer's profile."""
        if not self.groups:
            return "writer: no group recorded"
        n = len(self.groups)
        requests = sum(g[0] for g in self.groups)
        statements = sum(g[1] for g in self.groups)
        lines = [f"writer: {n} groups, {requests / n:.2f} requests/group, {statements / n:.2f} SQL statements/group, "
                 f"{1000 * sum(g[2] for g in self.groups) / n:.2f} ms wall and "
                 f"{1000 * sum(g[3] for g in self.groups) / n:.2f} ms CPU of the writer's thread per group, "
                 f"{1000 * sum(self.db_s.values()) / n:.2f} ms in the database per group",
                 "  per group  db ms/group  statement"]
        lines += [f"  {count / n:9.2f}  {1000 * self.db_s[text] / n:11.2f}  {text}"
                  for text, count in self.statements.most_common(top)]
        if self.profilers:
            stats = pstats.Stats(self.profilers[0])
            for profiler in self.profilers[1:]:
                stats.add(profiler)
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                stats.stream = out  # type: ignore[attr-defined]
                stats.sort_stats(order).print_stats(top)
                lines.append(f"--- the ping writer's threads (PingWriter._commit), by {order}\n{out.getvalue()}")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Profile ping requests."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgis", "spatialite"], default="postgis")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1, help="threads sending requests (groups form)")
    parser.add_argument("--moving", action="store_true", help="positions as bench/requests.lua sends them")
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

        app = create_app()
        probe = WriterProbe(profile=not args.no_profile)
        probe.install()
        rng = random.Random(7)

        def one(client: Any, n: int) -> None:
            if args.moving:  # each device moves to the next area on each of its pings, with jitter
                (lat, lon), jitter = AREAS[(n + n // len(tokens)) % len(AREAS)]
                lat, lon = lat + rng.uniform(-jitter, jitter), lon + rng.uniform(-jitter, jitter)
            else:
                (lat, lon), jitter = AREAS[n % len(AREAS)]
                lat, lon = lat + jitter / 2, lon - jitter / 2
            body = {"pings": [{"id": str(uuid.uuid4()), "lat": lat, "lon": lon,
                               "recorded_at": datetime.now(UTC).isoformat(), "accuracy_m": 10.0}]}
            response = client.post("/api/v1/mobile/pings", data=json.dumps(body), content_type="application/json",
                                   headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"})
            assert response.status_code == 200, response.get_json()

        profilers: list[cProfile.Profile] = []

        def send(count: int, *, profile: bool) -> None:
            def sender(first: int) -> None:
                client = app.test_client()
                profiler = cProfile.Profile()
                if profile:
                    profilers.append(profiler)
                    profiler.enable()
                for n in range(first, count, args.concurrency):
                    one(client, n)
                profiler.disable()

            threads = [threading.Thread(target=sender, args=(k,)) for k in range(args.concurrency)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        send(2 * args.devices, profile=False)  # warm-up: caches, connections, every device's first position
        probe.recording = True
        wall, cpu = time.perf_counter(), time.process_time()
        send(args.requests, profile=not args.no_profile)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        probe.recording = False
        overhead = "" if args.no_profile else " (profiler overhead included)"
        print(f"{args.db}: {args.requests} ping requests from {args.concurrency} thread(s)"
              f"{', moving' if args.moving else ''}: {1000 * wall / args.requests:.2f} ms wall and "
              f"{1000 * cpu / args.requests:.2f} ms CPU of this process per request{overhead}")
        print(probe.report(args.top))
        if args.no_profile:
            return
        stats = pstats.Stats(profilers[0])
        for profiler in profilers[1:]:
            stats.add(profiler)
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            stats.stream = out  # type: ignore[attr-defined]
            stats.sort_stats(order).print_stats(args.top)
            print(f"--- the request threads (the writer's work shows as waiting), by {order}\n{out.getvalue()}")
    finally:
        if pg_name:
            drop_database(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
