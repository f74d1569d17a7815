"""Configuration classes, read from the environment (twelve-factor)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _int(name: str, default: int) -> int:
    """Read an integer setting from the environment."""
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Settings for a running service; every value can be set from the environment."""

    DATABASE_URL: str | None = os.environ.get("DATABASE_URL") or None
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY") or None
    SOCKETIO_MESSAGE_QUEUE: str | None = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "pts-socketio")
    PUBLIC_BASE_URL: str | None = os.environ.get("PUBLIC_BASE_URL") or None

    OVERDUE_AFTER_S = _int("OVERDUE_AFTER_S", 3600)
    OVERDUE_AT_SEA_AFTER_S = _int("OVERDUE_AT_SEA_AFTER_S", 2700)
    RETENTION_DAYS = _int("RETENTION_DAYS", 30)
    PING_INTERVAL_S = _int("PING_INTERVAL_S", 1800)
    PING_INTERVAL_ALERT_S = _int("PING_INTERVAL_ALERT_S", 300)
    SWEEP_INTERVAL_S = _int("SWEEP_INTERVAL_S", 60)
    ACCESS_TOKEN_TTL_S = _int("ACCESS_TOKEN_TTL_S", 8 * 3600)
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_S = _int("LOGIN_LOCKOUT_S", 300)
    CARD_KEYS_DIR: str | None = os.environ.get("CARD_KEYS_DIR") or None
    CARD_ISSUER = os.environ.get("CARD_ISSUER", "https://safety.phuket.go.th")
    FIREBASE_CREDENTIALS: str | None = os.environ.get("FIREBASE_CREDENTIALS") or None
    FCM_ENDPOINT: str | None = os.environ.get("FCM_ENDPOINT") or None
    TILE_URL = os.environ.get("TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    RUN_PERIODIC_JOBS = os.environ.get("RUN_PERIODIC_JOBS", "1") not in ("0", "false", "no")
    DB_POOL_SIZE = _int("DB_POOL_SIZE", 30)  # PostgreSQL connections kept open per process
    DB_MAX_OVERFLOW = _int("DB_MAX_OVERFLOW", 10)  # extra connections opened (and closed) at peaks

    # Flask / extensions
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)
    JSON_SORT_KEYS = False
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    API_TITLE = "Phuket Tourist Safety API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    TESTING = False


class TestingConfig(Config):
    """Settings for the test suite: fixed secret, no background jobs."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production-0123456789"
    RUN_PERIODIC_JOBS = False
    LOGIN_LOCKOUT_S = 60


def instance_secret(instance_path: str) -> str:
    """Return the instance's persistent secret, creating it (mode 0600) on first start."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
