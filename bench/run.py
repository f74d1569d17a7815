"""``make bench``: the service against a bare Flask reference, in one bounded run.

    .venv/bin/python -m bench.run [--duration 12] [--warmup 3] [--db postgis|spatialite]
                                  [--json out.json] [--profile prof.txt] [--no-scaled]

On a fresh database (PostgreSQL + PostGIS by default; SpatiaLite with ``--db spatialite``),
with ``--devices`` enrolled devices and a dispatcher account, in this order:

1. **bare reference** (``bench/bare.py`` through ``backend.server.serve``: exactly the server of
   ``python wsgi.py``): ``GET /`` and ``POST /pings`` with the very ping requests of step 2;
2. **the service** (``python wsgi.py``): ``GET /healthz``, then ``POST /api/v1/mobile/pings``
   (one new ping per request, round-robin over the devices) while ``--sos`` SOS are pressed from
   other devices and a dispatcher on Socket.IO ``/dispatch`` times each ``incident`` event;
3. **bare reference again**: the same two loads, so that the machine's drift during the run shows
   and the ratios use the mean of both reference runs;
4. **idle connections**: ``--idle-http`` half-sent requests and ``--idle-ws`` unauthenticated
   WebSocket upgrades held open against the service, then ``GET /healthz`` and one SOS (each must
   answer within 2 s);
5. **scaled topology** (``deploy/``: nginx in front of REST and Socket.IO processes): the same
   ping load through nginx; skipped with a note when ``deploy/`` is absent.

Throughput comes from ``wrk`` (``bench/requests.lua`` builds every request); each load is a
warm-up that is discarded (``--warmup`` seconds; for ping loads also until every device has
pinged ``--warmup-rounds`` times, so that the first-ping transient is not measured), then a
``--duration`` run that is measured. Prints a Markdown
report in the format of docs/benchmarks.md; ``--json`` also writes every figure. Every process
started here is stopped and the database dropped, also on error or Ctrl-C.
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
from datetime import UTC, datetime
from pathlib import Path

from bench import idle, pings, sos, wrk
from bench.pings import ROOT, SECRET

DISPATCHER = ("bench-dispatcher", "bench-" + secrets.token_hex(8))


# --- the machine ---------------------------------------------------------------------------

def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_info(db_kind: str) -> dict[str, str]:
    """What the figures were measured on."""
    info = pings.machine()
    info.pop("load_before", None)
    info["os"] = platform.platform()
    info["wrk"] = (subprocess.run([wrk.wrk_binary(), "-v"], capture_output=True, text=True, check=False).stdout
                   .splitlines() or ["?"])[0].split(" Copyright")[0].strip()
    if db_kind == "postgis":
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(pings.PG_ADMIN_DSN) as conn:
                pg = conn.execute("SHOW server_version").fetchone()[0]
                info["database"] = f"PostgreSQL {pg.split()[0]} (same machine)"
    else:
        info["database"] = "SpatiaLite (file in a temporary folder)"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True, check=False).stdout.strip()
    info["commit"] = commit + (" + uncommitted changes in the working tree" if dirty else "")
    return info


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the processes of process group ``pgid``."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "(comm)": state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class Step:
    """Load average and server CPU around one step (``with Step(...) as step: ...; step.data``)."""

    def __init__(self, name: str, pgid: int | None = None) -> None:
        self.name, self.pgid = name, pgid
        self.data: dict = {"step": name}

    def __enter__(self) -> Step:
        self.data["load_before"] = load_average()
        self._cpu = group_cpu_s(self.pgid) if self.pgid else None
        self._wall = time.perf_counter()
        print(f"[bench] {self.name} (load {self.data['load_before']})", file=sys.stderr, flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.data["load_after"] = load_average()
        if self.pgid and self._cpu is not None:
            wall = time.perf_counter() - self._wall
            self.data["server_cpu_pct"] = round(100 * (group_cpu_s(self.pgid) - self._cpu) / wall)


# --- the steps -----------------------------------------------------------------------------

def throughput(name: str, load: wrk.Load, args: argparse.Namespace, pgid: int | None, **kw: object) -> dict:
    """One warm-up + measured wrk load, with the step's load average and server CPU."""
    with Step(name, pgid) as step:
        min_2xx = args.warmup_rounds * args.devices if load.mode == "ping" else 0
        step.data.update(wrk.run(load, connections=args.connections, threads=args.threads, warmup_s=args.warmup,
                                 duration_s=args.duration, min_warmup_2xx=min_2xx, max_warmup_s=args.max_warmup,
                                 **kw))
    step.data["request"] = f"{'GET' if load.mode == 'get' else 'POST'} {load.path}"
    return step.data


def idle_probe(port: int, dispatcher: sos.Dispatcher, device: tuple[str, str], args: argparse.Namespace,
               pgid: int) -> dict:
    """Hold the idle connections, then time /healthz and one SOS (and its dispatcher event)."""
    with Step("idle connections", pgid) as step:
        conns = idle.IdleConnections("127.0.0.1", port)
        try:
            conns.open(args.idle_http, args.idle_ws)
            waiting = idle.accept_queue(port)
            burst = idle.timed_get("127.0.0.1", port, "/healthz")  # sent right after the last connection
            conns.read_upgrades(wait_s=20)
            absorbed_s = idle.wait_accepted(port)
            time.sleep(1)  # settle: the steady state of 2,000 open connections is what is measured
            held = conns.state()
            health = [idle.timed_get("127.0.0.1", port, "/healthz") for _ in range(5)]
            press = sos.press_sos("127.0.0.1", port, device[1], device[0], random.Random(3))
            dispatcher.wait_for([device[0]], timeout_s=10)
            seen = dispatcher.seen(device[0])
            after = conns.state()
        finally:
            conns.close()
        answer_s = None if press.answered is None else press.answered - press.sent
        step.data.update({
            "requested": {"http": args.idle_http, "ws": args.idle_ws}, "opened_in_s": round(conns.open_s, 1),
            "open_errors": conns.open_errors, "before_measuring": held, "after_measuring": after,
            "burst": {"accept_queue": waiting, "healthz_status": burst[0], "healthz_ms": round(1000 * burst[1], 1),
                      "all_accepted_after_s": None if absorbed_s is None else round(absorbed_s, 1)},
            "healthz": [{"status": s, "ms": round(1000 * t, 1)} for s, t in health],
            "healthz_max_ms": round(1000 * max(t for _, t in health), 1),
            "sos": {"status": press.status, "error": press.error,
                    "answer_ms": None if answer_s is None else round(1000 * answer_s, 1),
                    "send_to_event_ms": None if seen is None else round(1000 * (seen - press.sent), 1)},
        })
        step.data["within_2s"] = bool(
            all(s == 200 and t < 2 for s, t in health) and press.status == 201 and answer_s is not None
            and answer_s < 2)
    return step.data


def profile_pings(process: subprocess.Popen, load: wrk.Load, args: argparse.Namespace) -> dict:
    """py-spy samples of the service (master and worker) during an extra, unmeasured ping load."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return {"error": "py-spy is not installed"}
    seconds = max(5, int(args.duration))
    recorder = subprocess.Popen([spy, "record", "--pid", str(process.pid), "--duration", str(seconds),
                                 "--rate", "200", "--format", "raw", "--output", str(args.profile), "--nonblocking",
                                 "--subprocesses", "--gil"],  # gunicorn: the worker is a child of the master
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        with Step("profile (py-spy, not measured)", process.pid) as step:
            step.data.update(wrk.run(load, connections=args.connections, threads=args.threads, warmup_s=0,
                                     duration_s=seconds + 1))
        _, err = recorder.communicate(timeout=60)
    finally:
        if recorder.poll() is None:
            os.killpg(recorder.pid, signal.SIGKILL)
            recorder.wait()
    step.data["output"] = str(args.profile) if args.profile.exists() else None
    if step.data["output"] is None:
        step.data["error"] = (err or b"").decode(errors="replace").strip()[-500:]
    return step.data


def scaled(args: argparse.Namespace, database_url: str, env: dict[str, str], workdir: Path,
           tokens_file: Path) -> dict:
    """The ping load through nginx in front of the scaled-out processes of ``deploy/`` (or a skip note).

    Hook: ``deploy.local.Cluster`` (nginx with ``deploy/nginx.conf``, ``--scaled-rest`` REST
    processes, ``--scaled-socketio`` Socket.IO processes, Redis) on the benchmark's database.
    """
    if args.no_scaled:
        return {"step": "scaled topology", "skipped": "--no-scaled"}
    if args.db != "postgis":
        return {"step": "scaled topology", "skipped": "the scaled topology runs on PostGIS only"}
    if not (ROOT / "deploy" / "nginx.conf").exists() or not (ROOT / "deploy" / "local.py").exists():
        # TODO(issue 12): deploy/nginx.conf + deploy/local.py are being written; this row runs once they exist.
        return {"step": "scaled topology", "skipped": "deploy/nginx.conf or deploy/local.py is not there yet"}
    try:
        from deploy.local import Cluster
    except Exception as exc:  # noqa: BLE001 - another engineer's work in progress must not end the run
        return {"step": "scaled topology", "skipped": f"deploy.local does not import: {exc!r}"}
    cluster = None
    try:
        cluster = Cluster(database_url=database_url, workdir=workdir / "cluster", rest=args.scaled_rest,
                          socketio=args.scaled_socketio, secret_key=env["SECRET_KEY"],
                          card_keys_dir=env["CARD_KEYS_DIR"], extra_env={"LOG_LEVEL": "WARNING"})
        cluster.start(timeout=90)
        pgids = [p.popen.pid for p in cluster.processes if p.popen is not None]
        cpu0, wall0 = sum(group_cpu_s(g) for g in pgids), time.perf_counter()
        data = throughput(f"scaled: nginx + {args.scaled_rest} REST + {args.scaled_socketio} Socket.IO",
                          wrk.Load(cluster.url, "ping", "/api/v1/mobile/pings", tokens_file), args, None)
        data["server_cpu_pct"] = round(100 * (sum(group_cpu_s(g) for g in pgids) - cpu0)
                                       / (time.perf_counter() - wall0))
        data["topology"] = {"nginx": 1, "rest": args.scaled_rest, "socketio": args.scaled_socketio,
                            "message_queue": "redis://127.0.0.1:6379/0"}
        return data
    except Exception as exc:  # noqa: BLE001 - report it, go on with the rest of the report
        return {"step": "scaled topology", "skipped": f"the cluster failed: {exc!r}"[:800]}
    finally:
        if cluster is not None:
            cluster.stop()


# --- the report ----------------------------------------------------------------------------

def _ms(d: dict, prefix: str = "") -> str:
    p50, p99, mx = d.get(f"{prefix}p50_ms"), d.get(f"{prefix}p99_ms"), d.get(f"{prefix}max_ms")
    if p50 is None:
        return "–"
    return f"{p50:.1f} / {p99:.1f} / {mx:.0f}"


def _statuses(d: dict) -> str:
    text = ", ".join(f"{s}: {n}" for s, n in d.get("statuses", {}).items())
    errors = {k: v for k, v in d.get("socket_errors", {}).items() if v}
    return text + (f"; socket errors {errors}" if errors else "")


def _warmups(results: dict) -> str:
    ping = [r for r in results["throughput"] if r.get("request", "").startswith("POST") and "warmup_s" in r]
    return ", ".join(f"{r['server'].split(' (')[0].split(' →')[0]} {r['warmup_s']:g} s" for r in ping) or "–"


def markdown(results: dict) -> str:
    """The report, in the format of docs/benchmarks.md."""
    m, cfg = results["machine"], results["config"]
    lines = [f"### Run of {results['started_at']}" + (" (preliminary)" if cfg.get("preliminary") else ""), "",
             f"Command: `{results['command']}`  ",
             f"Machine: nproc = {m['nproc']}, CPU \"{m['cpu']}\", {m['memory']} memory, Python {m['python']}, "
             f"{m.get('database', '?')}, {m['wrk']}; commit {m['commit']}.  ",
             f"Load average (1, 5, 15 min): {results['load_at_start']} at the start, {results['load_at_end']} at "
             "the end.  ",
             f"Load: wrk, {cfg['connections']} keep-alive connections, {cfg['threads']} thread(s), "
             f"{cfg['warmup_s']:g} s warm-up (discarded) + {cfg['duration_s']:g} s measured per row; ping rows "
             f"warm up until every device has pinged {cfg['warmup_rounds']} times on average (here "
             f"{_warmups(results)}); {cfg['devices']} devices; database {cfg['db']}.", ""]
    rows = results["throughput"]
    lines += ["| server | request | req/s | p50 / p99 / max ms | statuses | vs bare reference | server CPU | "
              "load before → after |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if "skipped" in row:
            lines.append(f"| {row['step']} | – | – | – | – | skipped: {row['skipped']} | – | – |")
            continue
        ratio = row.get("ratio_to_bare")
        ratio_text = f"**{ratio:.2f} ×** {row['ratio_basis']}" if ratio is not None else "(reference)"
        rps = f"**{row['requests_per_s']:.0f}**" if ratio is not None else f"{row['requests_per_s']:.0f}"
        cpu = f"{row['server_cpu_pct']} %" if row.get("server_cpu_pct") is not None else "–"
        lines.append(f"| {row['server']} | `{row['request']}` | {rps} | {_ms(row)} | {_statuses(row)} | "
                     f"{ratio_text} | {cpu} | {row['load_before']} → {row['load_after']} |")
    client = [r["client_cpu_pct"] for r in rows if r.get("client_cpu_pct") is not None]
    if client:
        lines += ["", f"The load generator (wrk) used {min(client)}–{max(client)} % of one core per row; "
                  "server CPU is the server's processes (gunicorn master and worker; for the scaled row every "
                  "process of the cluster, nginx included) over the warm-up and measured runs."]
    drift = results.get("reference_drift_pct")
    if drift:
        lines += ["", "Drift of the bare reference between its run before and its run after the service "
                  f"(same requests): GET {drift['get']:+.0f} %, POST {drift['post']:+.0f} %."]
    s = results.get("sos")
    if s:
        lines += ["", f"SOS → dispatcher while the ping load ran ({s['sent']} SOS from {s['sent']} devices, "
                  "spread over the measured window; one dispatcher on Socket.IO `/dispatch`):", "",
                  "| SOS sent | answers | `incident` events received | missing | SOS answer p50 / p99 / max ms | "
                  "request → event p50 / p99 / max ms | 201 → event p50 / p99 / max ms |",
                  "|---|---|---|---|---|---|---|",
                  f"| {s['sent']} | {', '.join(f'{k}: {v}' for k, v in s['statuses'].items())} | {s['received']} | "
                  f"**{s['missing']}** | {_ms(s['http'])} | **{_ms(s['send_to_event'])}** | "
                  f"{_ms(s['answer_to_event'])} |"]
    i = results.get("idle")
    if i:
        h, a = i["before_measuring"], i["after_measuring"]
        b = i["burst"]
        lines += ["", f"Idle connections against `python wsgi.py` (opened in {i['opened_in_s']} s, held while "
                  "measuring; an SOS from a fresh device). Measured once the server had taken them all in; "
                  f"during the burst itself ({b['accept_queue']} connections still in the listen queue), a "
                  f"`GET /healthz` sent right after the last connection took **{b['healthz_ms']:.0f} ms** "
                  f"({b['healthz_status']}), and the listen queue was empty {b['all_accepted_after_s']} s after "
                  "the upgrades were answered.", "",
                  "| half-sent HTTP requests open | unauthenticated WebSockets open (101) | `GET /healthz` ×5, "
                  "max ms | SOS answer ms | SOS → event ms | all within 2 s | load before → after |",
                  "|---|---|---|---|---|---|---|",
                  f"| {h['http_open']} of {i['requested']['http']} (still {a['http_open']} after) | "
                  f"{h['ws_open']} of {i['requested']['ws']} ({h['ws_upgraded_101']} upgraded; still "
                  f"{a['ws_open']} after) | {i['healthz_max_ms']} "
                  f"({', '.join(str(x['status']) for x in i['healthz'])}) | {i['sos']['answer_ms']} "
                  f"({i['sos']['status']}) | {i['sos']['send_to_event_ms']} | **{'yes' if i['within_2s'] else 'NO'}** "
                  f"| {i['load_before']} → {i['load_after']} |"]
        if i["open_errors"]:
            lines.append(f"\nErrors while opening: {i['open_errors']}")
    p = results.get("profile")
    if p:
        lines += ["", f"Profile: {p.get('output') or p.get('error')} (py-spy during an extra ping load, not part "
                  "of the figures above)."]
    lines += ["", f"Pings stored: {results.get('pings_stored')}; ping requests answered 2xx in all runs (warm-ups "
              f"included): {results.get('ping_requests_2xx')}, plus {results.get('sos_answered')} SOS (an SOS stores "
              f"its position as a ping too), plus up to {results.get('ping_requests_in_flight_max')} requests in "
              "flight when a wrk run stopped (sent and stored, never counted)."]
    return "\n".join(lines)


def _ratios(results: dict) -> None:
    rows = results["throughput"]
    ref = {key: [r["requests_per_s"] for r in rows if r.get("server", "").startswith("bare") and r["request"] == key]
           for key in ("GET /", "POST /pings")}
    mean = {k: sum(v) / len(v) for k, v in ref.items() if v}
    if len(ref["GET /"]) == 2 and len(ref["POST /pings"]) == 2:
        results["reference_drift_pct"] = {
            "get": 100 * (ref["GET /"][1] - ref["GET /"][0]) / ref["GET /"][0],
            "post": 100 * (ref["POST /pings"][1] - ref["POST /pings"][0]) / ref["POST /pings"][0]}
    for row in rows:
        if "skipped" in row or row.get("server", "").startswith("bare"):
            continue
        basis = "GET /" if row["request"].startswith("GET") else "POST /pings"
        if basis in mean:
            row["ratio_to_bare"] = round(row["requests_per_s"] / mean[basis], 3)
            row["ratio_basis"] = f"bare `{basis}`"


# --- main ----------------------------------------------------------------------------------

def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: processes stopped, database dropped


def main(argv: list[str] | None = None) -> dict:
    """Run every step; print the Markdown report; return the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgis", "spatialite"], default="postgis")
    parser.add_argument("--devices", type=int, default=500, help="enrolled devices the pings rotate over")
    parser.add_argument("--connections", type=int, default=32, help="wrk keep-alive connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of discarded warm-up per load (at least)")
    parser.add_argument("--warmup-rounds", type=int, default=2,
                        help="ping loads warm up until every device has pinged this often on average")
    parser.add_argument("--max-warmup", type=float, default=45, help="longest warm-up of a ping load, seconds")
    parser.add_argument("--duration", type=float, default=12, help="measured seconds per load")
    parser.add_argument("--sos", type=int, default=60, help="SOS pressed during the ping load (one device each)")
    parser.add_argument("--idle-http", type=int, default=1000, help="half-sent HTTP requests held open")
    parser.add_argument("--idle-ws", type=int, default=1000, help="unauthenticated WebSocket upgrades held open")
    parser.add_argument("--no-scaled", action="store_true", help="skip the nginx (deploy/) row")
    parser.add_argument("--scaled-rest", type=int, default=2, help="REST processes behind nginx")
    parser.add_argument("--scaled-socketio", type=int, default=1, help="Socket.IO processes behind nginx")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy the service during an extra ping load")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    parser.add_argument("--preliminary", action="store_true", help="label the report as preliminary")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    nofile = idle.raise_nofile()
    if nofile < args.idle_http + args.idle_ws + 200:
        parser.error(f"the open-file limit ({nofile}) is too low for {args.idle_http + args.idle_ws} connections")

    results: dict = {
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load_at_start": load_average(),
        "machine": machine_info(args.db),
        "config": {"db": args.db, "devices": args.devices, "connections": args.connections, "threads": args.threads,
                   "warmup_s": args.warmup, "warmup_rounds": args.warmup_rounds, "max_warmup_s": args.max_warmup,
                   "duration_s": args.duration, "sos": args.sos,
                   "idle_http": args.idle_http, "idle_ws": args.idle_ws, "preliminary": args.preliminary},
        "throughput": []}
    workdir = Path(tempfile.mkdtemp(prefix="pts-bench-"))
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, workdir, True)
        url, pg_name = pings.create_database(args.db, workdir)
        if pg_name:
            cleanup.callback(pings.drop_database, pg_name)
        env = {k: v for k, v in os.environ.items()
               if k not in ("SOCKETIO_MESSAGE_QUEUE", "PUBLIC_BASE_URL", "ACCESS_LOG")}
        env.update({"DATABASE_URL": url, "SECRET_KEY": SECRET, "RUN_PERIODIC_JOBS": "0",
                    "INSTANCE_PATH": str(workdir / "instance"), "CARD_KEYS_DIR": str(workdir / "keys"),
                    "LOG_LEVEL": "WARNING", "SOCKETIO_CHANNEL": f"pts-bench-{uuid.uuid4().hex}"})
        os.environ.update(env)
        os.environ.pop("SOCKETIO_MESSAGE_QUEUE", None)

        print(f"[bench] preparing the {args.db} database: {args.devices + args.sos + 1} devices",
              file=sys.stderr, flush=True)
        tokens = pings.prepare(args.devices + args.sos + 1)
        pings.create_dispatcher(*DISPATCHER)
        tokens_file = workdir / "device-tokens.txt"
        tokens_file.write_text("\n".join(tokens[:args.devices]) + "\n")
        sos_devices = [(pings.card_id(i), tokens[i]) for i in range(args.devices, args.devices + args.sos)]
        probe_device = (pings.card_id(args.devices + args.sos), tokens[args.devices + args.sos])

        bare_port, service_port = pings.free_port(), pings.free_port()
        while service_port == bare_port:
            service_port = pings.free_port()
        bare = pings.start_server("bare", env, bare_port, workdir / "bare.log")
        cleanup.callback(pings.stop_server, bare)
        service = pings.start_server("service", env, service_port, workdir / "service.log")
        cleanup.callback(pings.stop_server, service)
        try:
            pings.wait_healthy(bare_port, bare, path="/")
            pings.wait_healthy(service_port, service)
        except RuntimeError:
            for name in ("bare", "service"):
                print(f"--- {name}.log\n{(workdir / f'{name}.log').read_text(errors='replace')[-3000:]}",
                      file=sys.stderr)
            raise
        bare_url, service_url = f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{service_port}"
        bare_get = wrk.Load(bare_url, "get", "/")
        bare_post = wrk.Load(bare_url, "ping", "/pings", tokens_file)
        ping_load = wrk.Load(service_url, "ping", "/api/v1/mobile/pings", tokens_file)
        rows = results["throughput"]

        # 1. the bare reference
        for load in (bare_get, bare_post):
            rows.append({"server": "bare Flask (before)", **throughput(f"bare {load.path}", load, args, bare.pid)})
        # 2. the service: /healthz, then pings with SOS and a dispatcher
        rows.append({"server": "python wsgi.py",
                     **throughput("service /healthz", wrk.Load(service_url, "get", "/healthz"), args, service.pid)})
        dispatcher = sos.Dispatcher(service_url, sos.login(service_url, *DISPATCHER))
        dispatcher.connect()
        cleanup.callback(dispatcher.close)
        sender = sos.SosSender("127.0.0.1", service_port, sos_devices, window_s=0.85 * args.duration)
        rows.append({"server": "python wsgi.py",
                     **throughput("service pings + SOS", ping_load, args, service.pid, on_measure=sender.start)})
        sender.join(timeout_s=60)
        dispatcher.wait_for([card for card, _ in sos_devices], timeout_s=5)  # the contract's 5 s
        results["sos"] = sos.summarize(sender.presses, dispatcher)
        # 3. the bare reference again
        for load in (bare_get, bare_post):
            rows.append({"server": "bare Flask (after)", **throughput(f"bare {load.path} (again)", load, args,
                                                                       bare.pid)})
        pings.stop_server(bare)
        # 4. idle connections
        results["idle"] = idle_probe(service_port, dispatcher, probe_device, args, service.pid)
        if args.profile:
            results["profile"] = profile_pings(service, ping_load, args)
        dispatcher.close()
        pings.stop_server(service)
        # 5. the scaled topology
        scaled_row = scaled(args, url, env, workdir, tokens_file)
        if "skipped" in scaled_row:
            print(f"[bench] scaled topology skipped: {scaled_row['skipped']}", file=sys.stderr, flush=True)
        else:
            scaled_row["server"] = (f"nginx → {args.scaled_rest} × gunicorn wsgi:app (+ {args.scaled_socketio} "
                                    "× python wsgi.py, Redis)")
        rows.append(scaled_row)

        ping_rows = [r for r in rows if r.get("request") == "POST /api/v1/mobile/pings"]
        results["ping_requests_2xx"] = sum(
            r["warmup_2xx"] + sum(n for s, n in r["statuses"].items() if 200 <= s < 300) for r in ping_rows) + sum(
            n for s, n in results.get("profile", {}).get("statuses", {}).items() if 200 <= s < 300)
        wrk_runs = sum(r["warmup_runs"] + 1 for r in ping_rows) + (1 if "statuses" in results.get("profile", {}) else 0)
        results["ping_requests_in_flight_max"] = wrk_runs * args.connections  # sent, not counted when wrk stopped
        results["sos_answered"] = sum(n for s, n in results["sos"]["statuses"].items() if s.startswith("2")) + int(
            str(results["idle"]["sos"]["status"]).startswith("2"))
        results["pings_stored"] = pings.count_pings()
    results["load_at_end"] = load_average()
    _ratios(results)
    report = markdown(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    print(report)
    return results


if __name__ == "__main__":
    main()
