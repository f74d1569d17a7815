"""Phuket Tourist Safety: the application factory."""

from __future__ import annotations

import importlib
import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

# Each domain owns an ``init_app(app)`` that registers its blueprints, CLI and events.
DOMAINS = (
    "backend.web",
    "backend.health",
    "backend.home",
    "backend.auth",
    "backend.hotels",
    "backend.cards",
    "backend.tracking",
    "backend.dispatch",
    "backend.marine",
    "backend.marine.pages",
    "geo",
    "mobile_api",
    "notifications",
)

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config from the environment (or ``test_config``), extensions, domains.

    Everything is imported here, not at module level: ``python wsgi.py`` imports this package in
    gunicorn's master, and the application's modules must first be imported in the worker, after
    gevent has patched the standard library (:mod:`backend.server`).
    """
    from flask import Flask

    from backend import config as config_module
    from backend import database, runtime
    from backend.extensions import api, db, migrate, socketio
    from backend.web.sessions import NoSessions

    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None,
                instance_relative_config=True)
    if test_config is None:
        app.config.from_object(config_module.Config)
    else:
        app.config.from_object(config_module.TestingConfig)
        app.config.update(test_config)
    app.session_interface = NoSessions()  # bearer tokens only: no cookie session to open per request
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.instance_secret(app.instance_path)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    database.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    api.init_app(app, spec_kwargs={"servers": [{"url": "/"}]})
    api.security_scheme(
        "staffToken", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "Staff access token from POST /api/v1/auth/login"})
    api.security_scheme(
        "deviceToken", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                        "description": "Device token from POST /api/v1/mobile/enroll"})
    socketio.init_app(
        app,
        async_mode=runtime.async_mode(),
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        channel=app.config["SOCKETIO_CHANNEL"],
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS", []),
        json=app.json,
    )
    for name in DOMAINS:
        importlib.import_module(name).init_app(app)

    from backend import demo, jobs, seeding, wiring

    wiring.init_app(app)
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:  # behind nginx: the client's address and scheme come from X-Forwarded-For / -Proto
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.cli.add_command(jobs.sweep_command)
    app.cli.add_command(demo.demo_command)
    app.cli.add_command(seeding.seed_command)
    return app
