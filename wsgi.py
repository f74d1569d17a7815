"""WSGI entry point: ``app`` for gunicorn and ``flask --app wsgi``; ``python wsgi.py`` serves HTTP + Socket.IO.

``python wsgi.py`` runs gunicorn in-process with one gevent worker (:mod:`backend.server`): one
process holds the Socket.IO state and thousands of concurrent connections. The application is
imported in that worker, after gevent has patched the standard library, never in gunicorn's
master. To scale out, see docs/deploy.md.
"""

from __future__ import annotations


def _start_periodic_jobs(app) -> None:  # noqa: ANN001 - a Flask app, imported in the worker
    from backend import jobs

    if app.config.get("RUN_PERIODIC_JOBS"):
        jobs.start_scheduler(app)


if __name__ == "__main__":
    from backend.server import serve

    serve("wsgi:app", on_load=_start_periodic_jobs)
else:
    from backend import create_app

    app = create_app()
