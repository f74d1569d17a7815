"""WSGI entry point: ``app`` for gunicorn; ``python wsgi.py`` serves HTTP + Socket.IO.

``python wsgi.py`` runs gunicorn (a production server) in-process with one worker and many
threads, which Flask-SocketIO supports with WebSocket through simple-websocket. One process
holds the Socket.IO state; to scale out, see docs/deploy.md.
"""

from __future__ import annotations

import os

from backend import create_app

app = create_app()


def serve() -> None:
    """Serve HTTP and Socket.IO on ``$HOST:$PORT`` (default 127.0.0.1:5000) with gunicorn."""
    from gunicorn.app.base import BaseApplication

    from backend import jobs

    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    threads = int(os.environ.get("THREADS", "64"))

    class Server(BaseApplication):
        """gunicorn, configured from code rather than a config file."""

        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 0)  # long-lived websocket connections
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("accesslog", os.environ.get("ACCESS_LOG") or None)
            self.cfg.set("errorlog", "-")
            self.cfg.set("control_socket_disable", True)  # several servers may share a machine

        def load(self):
            if app.config.get("RUN_PERIODIC_JOBS"):
                jobs.start_scheduler(app)
            return app

    print(f"Phuket Tourist Safety serving on http://{host}:{port}", flush=True)
    Server().run()


if __name__ == "__main__":
    serve()
