"""The production server of ``python wsgi.py``: gunicorn, one gevent worker, thousands of connections.

One worker process holds every connection of the service — REST calls, Socket.IO WebSockets and
long-polling — as greenlets: a connection that idles, or a client that sends its request one byte
a minute, costs memory, not a thread (see :mod:`backend.runtime`). gunicorn's master only watches
the worker and starts a new one if it dies. The same configuration serves the benchmark's bare
Flask reference (``bench``), so the two are compared under one server.

Requests gunicorn refuses before the application sees them (a too-long URL or header, a malformed
request line) are answered with the contract's JSON error body instead of gunicorn's HTML page.
"""

from __future__ import annotations

import json
import os
import resource
from typing import Any

from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker

MAX_CONNECTIONS = 10_000  # per process; each needs a file descriptor (see raise_file_limit)


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's refusal of a request, as ``{code, message}`` JSON (replaces its HTML page)."""
    body = json.dumps({"code": status_int, "message": f"{reason}: {mesg}" if mesg else reason}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    gunicorn_util.write_nonblock(sock, head + body)


def raise_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit (one descriptor per connection)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class Worker(GeventWorker):
    """gunicorn's gevent worker with JSON refusals and room for :data:`MAX_CONNECTIONS` sockets."""

    def init_process(self) -> None:
        """Before serving: JSON error pages, enough file descriptors (then gevent patches and loads)."""
        gunicorn_util.write_error = write_json_error  # gunicorn writes its refusals through this
        raise_file_limit()
        super().init_process()


class Server(BaseApplication):
    """gunicorn configured from code: one gevent worker on ``host:port`` serving ``app_uri``.

    ``app_uri`` (``module:attribute``) is imported in the worker, after gevent has patched the
    standard library, so that every lock and socket the application creates is cooperative.
    ``on_load`` runs in the worker with the loaded application (e.g. start the periodic jobs).
    """

    def __init__(self, app_uri: str, *, host: str, port: int, on_load: Any = None) -> None:
        self.app_uri = app_uri
        self.host, self.port = host, port
        self.on_load = on_load
        super().__init__()

    def load_config(self) -> None:
        """Settings: see the module docstring; ``ACCESS_LOG`` (a path or ``-``) turns on access logs."""
        self.cfg.set("bind", f"{self.host}:{self.port}")
        self.cfg.set("workers", 1)
        self.cfg.set("worker_class", f"{__name__}.Worker")
        self.cfg.set("worker_connections", int(os.environ.get("MAX_CONNECTIONS") or MAX_CONNECTIONS))
        self.cfg.set("backlog", 4096)
        self.cfg.set("timeout", 60)  # the worker's heartbeat comes from its event loop: 60 s stalled is dead
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("keepalive", 75)
        self.cfg.set("accesslog", os.environ.get("ACCESS_LOG") or None)
        self.cfg.set("errorlog", "-")
        self.cfg.set("control_socket_disable", True)  # several servers may share a machine

    def load(self) -> Any:
        """Import the application (in the worker, after monkey-patching)."""
        app = gunicorn_util.import_app(self.app_uri)
        if self.on_load is not None:
            self.on_load(app)
        return app


def serve(app_uri: str, *, on_load: Any = None) -> None:
    """Serve ``app_uri`` on ``$HOST:$PORT`` (default 127.0.0.1:5000) until stopped."""
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"Phuket Tourist Safety serving on http://{host}:{port}", flush=True)
    Server(app_uri, host=host, port=port, on_load=on_load).run()
