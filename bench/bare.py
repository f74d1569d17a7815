"""The benchmark's reference: a bare Flask app served exactly like ``python wsgi.py``.

    HOST=127.0.0.1 PORT=5001 .venv/bin/python -m bench.bare

``python -m bench.bare`` calls :func:`backend.server.serve` with ``"bench.bare:app"``, the same
function and configuration ``python wsgi.py`` uses (gunicorn, one gevent worker, the same
connection limit, keep-alive and backlog), so the difference between the two is the service's
own work. As in ``wsgi.py``, the app is only imported in the worker, after monkey-patching.

- ``GET /`` → ``{"status": "ok"}`` (the floor of a request: gunicorn, gevent, Flask, JSON);
- ``POST /pings`` → parses the JSON body (the benchmark sends it the service's ping requests,
  token header included) and answers ``{"accepted": <number of pings>}``.
"""

from __future__ import annotations

if __name__ == "__main__":
    from backend.server import serve

    serve("bench.bare:app")
else:
    from flask import Flask, request

    app = Flask(__name__)

    @app.get("/")
    def index() -> dict[str, str]:
        """The smallest JSON answer."""
        return {"status": "ok"}

    @app.post("/pings")
    def pings() -> dict[str, int]:
        """Parse a small JSON body, as the ping route must before any of its own work."""
        body = request.get_json(silent=True) or {}
        return {"accepted": len(body.get("pings") or [])}
