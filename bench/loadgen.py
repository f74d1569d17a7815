"""A small asyncio HTTP/1.1 load generator: keep-alive connections, one request at a time each.

Written for this benchmark so that the client costs as little CPU as possible on a machine it
shares with the server (no third-party HTTP stack, no threads): each connection sends its next
request as soon as the previous answer is read, and every latency is kept.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    """Requests completed in the measured window, their latencies (s) and the non-2xx answers."""

    duration_s: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0

    @property
    def requests_per_s(self) -> float:
        """Completed requests per second."""
        return len(self.latencies) / self.duration_s if self.duration_s else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile ``q`` (0–100) in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]

    def summary(self) -> dict[str, float | int | dict[int, int]]:
        """The numbers to report."""
        return {"requests": len(self.latencies), "requests_per_s": round(self.requests_per_s, 1),
                "p50_ms": round(self.percentile(50), 2), "p99_ms": round(self.percentile(99), 2),
                "mean_ms": round(1000 * statistics.fmean(self.latencies), 2) if self.latencies else None,
                "statuses": dict(sorted(self.statuses.items())), "errors": self.errors}


RequestFactory = Callable[[int], bytes]  # request number -> the raw HTTP request


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(host: str, port: int, make: RequestFactory, counter: list[int], warmup_end: float,
                      end: float, result: Result) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            now = time.perf_counter()
            if now >= end:
                return
            counter[0] += 1
            writer.write(make(counter[0]))
            started = time.perf_counter()
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            done = time.perf_counter()
            if started >= warmup_end and done <= end:
                result.latencies.append(done - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _run(host: str, port: int, make: RequestFactory, connections: int, warmup_s: float,
               duration_s: float) -> Result:
    start = time.perf_counter()
    warmup_end, end = start + warmup_s, start + warmup_s + duration_s
    result = Result(duration_s=duration_s)
    counter = [0]
    await asyncio.gather(*(_connection(host, port, make, counter, warmup_end, end, result)
                           for _ in range(connections)))
    return result


def run(host: str, port: int, make: RequestFactory, *, connections: int, warmup_s: float,
        duration_s: float) -> Result:
    """Drive ``connections`` keep-alive connections for ``warmup_s + duration_s`` seconds."""
    return asyncio.run(_run(host, port, make, connections, warmup_s, duration_s))


def request(method: str, path: str, host: str, *, headers: dict[str, str] | None = None,
            body: bytes = b"") -> bytes:
    """A raw HTTP/1.1 request with keep-alive."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
