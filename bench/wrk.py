"""Throughput runs with ``wrk`` (C, keep-alive, little CPU) and ``bench/requests.lua``.

Each :func:`run` is bounded: warm-up runs whose figures are discarded (long enough for every
device to have pinged, see ``min_warmup_2xx``), then the measured run. Every request of a ping run is a new ping (fresh UUID, current time, next
device's token; see ``requests.lua``). Returns requests/s, latency percentiles (wrk measures each
request from its write to its complete answer), the answers' statuses and wrk's own CPU use.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("requests.lua")


def wrk_binary() -> str:
    """The wrk executable (``$WRK`` or the PATH); raises if there is none."""
    path = os.environ.get("WRK") or shutil.which("wrk")
    if not path:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    return path


@dataclass
class Load:
    """What to send: ``mode`` ``get`` (``GET path``) or ``ping`` (``POST path``, one new ping each)."""

    url: str  # http://127.0.0.1:PORT
    mode: str
    path: str
    tokens_file: Path | None = None


def _invoke(load: Load, *, connections: int, threads: int, duration_s: float, timeout_s: float = 10) -> dict:
    args = [load.mode, load.path]
    if load.mode == "ping":
        args += [str(load.tokens_file), secrets.token_hex(7)]
    command = [wrk_binary(), "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration_s))}s",
               "--timeout", f"{int(timeout_s)}s", "-s", str(SCRIPT), load.url, "--", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=duration_s + timeout_s + 30)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is the only child reaped meanwhile
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise RuntimeError(f"wrk did not finish: {' '.join(command)}") from None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    line = next((x for x in out.splitlines() if x.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {err.strip() or out.strip()}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    lat = raw["latency_us"]
    statuses = {int(k): v for k, v in sorted(raw["statuses"].items(), key=lambda kv: int(kv[0]))}
    errors = {k: v for k, v in raw["errors"].items() if k != "status"}  # "status": non-2xx/3xx, in statuses
    return {"requests": raw["requests"], "seconds": round(seconds, 2),
            "requests_per_s": round(raw["requests"] / seconds, 1) if seconds else 0.0,
            "p50_ms": round(lat["p50"] / 1000, 2), "p90_ms": round(lat["p90"] / 1000, 2),
            "p99_ms": round(lat["p99"] / 1000, 2), "max_ms": round(lat["max"] / 1000, 2),
            "mean_ms": round(lat["mean"] / 1000, 2), "statuses": statuses, "socket_errors": errors,
            "all_2xx": bool(statuses) and all(200 <= s < 300 for s in statuses) and not any(errors.values()),
            "connections": connections, "threads": threads,
            "client_cpu_pct": round(100 * (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                                    / seconds) if seconds else None}


def run(load: Load, *, connections: int, threads: int, warmup_s: float, duration_s: float,
        min_warmup_2xx: int = 0, max_warmup_s: float = 45, on_measure: Callable[[], object] | None = None) -> dict:
    """Warm up (discarded), then measure ``duration_s``; the measured figures.

    The warm-up lasts ``warmup_s`` and, in further runs of ``warmup_s`` each, until at least
    ``min_warmup_2xx`` requests were answered 2xx (e.g. two pings per device, so that every device has
    a position and the measured window sees the steady state) or ``max_warmup_s`` have passed.
    ``on_measure`` is called just before the measured run starts (e.g. to start sending SOS).
    """
    warm_requests = warm_2xx = 0
    warm_s = 0.0
    while warmup_s > 0 and (warm_s == 0 or (warm_2xx < min_warmup_2xx and warm_s + warmup_s <= max_warmup_s)):
        warm = _invoke(load, connections=connections, threads=threads, duration_s=warmup_s)
        warm_s += warm["seconds"]
        warm_requests += warm["requests"]
        warm_2xx += sum(v for s, v in warm["statuses"].items() if 200 <= s < 300)
    if on_measure is not None:
        on_measure()
    result = _invoke(load, connections=connections, threads=threads, duration_s=duration_s)
    result.update({"warmup_s": round(warm_s, 1), "warmup_requests": warm_requests, "warmup_2xx": warm_2xx,
                   "warmup_runs": 0 if not warm_s else max(1, round(warm_s / max(1, round(warmup_s))))})
    return result
