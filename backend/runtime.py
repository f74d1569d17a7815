"""How this process serves: cooperative (gevent) under ``python wsgi.py``, plain threads elsewhere.

``python wsgi.py`` (and ``gunicorn -k gevent``) monkey-patches the standard library before the
application is imported, so every socket, lock, queue and ``time.sleep`` of the code base — and of
psycopg 3, redis-py, simple-websocket — yields to the other connections instead of holding a thread:
an idle WebSocket or a half-sent request costs a greenlet, not one of a fixed number of threads.
The test suite, the CLI and a gthread gunicorn run the very same code on ordinary threads.

What cooperative I/O cannot do is preempt Python code that computes: argon2 password hashing,
QR and PNG rendering and large shapely operations would stall every connection of the process
while they run. :func:`off_loop` runs such work in gevent's pool of real OS threads (argon2 and
shapely release the GIL; the rest is preempted by the interpreter's switch interval), so the event
loop keeps serving meanwhile.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def cooperative() -> bool:
    """True when the standard library is monkey-patched by gevent (``python wsgi.py``)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("socket"))


def async_mode() -> str:
    """Flask-SocketIO's async mode for this process: ``gevent`` when cooperative, else ``threading``."""
    return "gevent" if cooperative() else "threading"


def off_loop(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run CPU-heavy ``func`` where it cannot stall the other connections; returns its result.

    Cooperative: in gevent's pool of native threads, the calling greenlet waiting (its exception is
    re-raised here). Otherwise: right here, since ordinary threads are preempted anyway.
    """
    if not cooperative():
        return func(*args, **kwargs)
    import gevent

    return gevent.get_hub().threadpool.apply(func, args, kwargs)
