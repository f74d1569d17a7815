"""Configuration classes, read from the environment (twelve-factor)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _int(name: str, default: int) -> int:
    """Read an integer setting from the environment."""
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float | None) -> float | None:
    """Read a number setting (seconds) from the environment."""
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


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
    # Guessing throttles (backend.auth.throttle): a (username or card, address) pair is locked after
    # *_MAX_FAILURES, an address after *_PER_ADDR (high: a 191 center or an airport's Wi-Fi is one
    # address); an account attacked from anywhere is only slowed, up to THROTTLE_SLOW_MAX_S per attempt.
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_MAX_FAILURES_PER_ADDR = _int("LOGIN_MAX_FAILURES_PER_ADDR", 100)
    LOGIN_LOCKOUT_S = _int("LOGIN_LOCKOUT_S", 300)
    THROTTLE_SLOW_MAX_S = _int("THROTTLE_SLOW_MAX_S", 5)
    ENROLL_MAX_FAILURES = _int("ENROLL_MAX_FAILURES", 5)
    ENROLL_MAX_FAILURES_PER_ADDR = _int("ENROLL_MAX_FAILURES_PER_ADDR", 30)
    ENROLL_LOCKOUT_S = _int("ENROLL_LOCKOUT_S", 300)
    # hotel check-in by card id + passport number: wrong pairs per (card, manager), per manager (hotels/README.md)
    CHECKIN_MAX_FAILURES = _int("CHECKIN_MAX_FAILURES", 5)
    CHECKIN_MAX_FAILURES_PER_MANAGER = _int("CHECKIN_MAX_FAILURES_PER_MANAGER", 20)
    CHECKIN_LOCKOUT_S = _int("CHECKIN_LOCKOUT_S", 300)
    CARD_KEYS_DIR: str | None = os.environ.get("CARD_KEYS_DIR") or None
    CARD_ISSUER = os.environ.get("CARD_ISSUER", "https://safety.phuket.go.th")
    FIREBASE_CREDENTIALS: str | None = os.environ.get("FIREBASE_CREDENTIALS") or None
    FCM_ENDPOINT: str | None = os.environ.get("FCM_ENDPOINT") or None
    # Web Push (notifications/webpush.py): the push services posted to (``*.`` any subdomain; a listed
    # 127.0.0.1/localhost may be http://), the VAPID key folder (default CARD_KEYS_DIR/webpush) and subject
    WEBPUSH_ALLOWED_HOSTS = os.environ.get("WEBPUSH_ALLOWED_HOSTS") or (
        "fcm.googleapis.com,updates.push.services.mozilla.com,web.push.apple.com,*.notify.windows.com")
    WEBPUSH_KEYS_DIR: str | None = os.environ.get("WEBPUSH_KEYS_DIR") or None
    WEBPUSH_KEYS_PASSPHRASE: str | None = os.environ.get("WEBPUSH_KEYS_PASSPHRASE") or None
    WEBPUSH_SUBJECT = os.environ.get("WEBPUSH_SUBJECT", "mailto:safety@phuket.go.th")
    TILE_URL = os.environ.get("TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    RUN_PERIODIC_JOBS = os.environ.get("RUN_PERIODIC_JOBS", "1") not in ("0", "false", "no")
    # proxies in front whose X-Forwarded-For/-Proto/-Host are trusted (1 behind nginx; 0: none, the default)
    TRUSTED_PROXY_HOPS = _int("TRUSTED_PROXY_HOPS", 0)
    PING_WRITERS = _int("PING_WRITERS", 0)  # group-commit loops per process; 0: 2 on PostgreSQL, 1 on SQLite
    DB_POOL_SIZE = _int("DB_POOL_SIZE", 30)  # PostgreSQL connections kept open per process
    DB_MAX_OVERFLOW = _int("DB_MAX_OVERFLOW", 10)  # extra connections opened (and closed) at peaks
    # every wait on the database is bounded: a lost database is a 503 within 5 s (backend/availability.py)
    DB_CONNECT_TIMEOUT_S = _int("DB_CONNECT_TIMEOUT_S", 2)  # libpq connect_timeout (at least 2)
    DB_STATEMENT_TIMEOUT_MS = _int("DB_STATEMENT_TIMEOUT_MS", 3000)  # server-side statement_timeout; 0: none
    DB_ANSWER_TIMEOUT_S = _float("DB_ANSWER_TIMEOUT_S", None)  # client gives up on an answer; default statement + 0.5 s
    DB_PING_TIMEOUT_S = _float("DB_PING_TIMEOUT_S", 1.0)  # liveness check of an idle pooled connection
    DB_POOL_TIMEOUT_S = _float("DB_POOL_TIMEOUT_S", 1.5)  # longest wait for a free pooled connection
    DB_TCP_USER_TIMEOUT_MS = _int("DB_TCP_USER_TIMEOUT_MS", 4000)  # kernel drops a connection with unacked data
    DB_BUSY_TIMEOUT_MS = _int("DB_BUSY_TIMEOUT_MS", 4000)  # SpatiaLite: wait for another writer's lock
    DB_RETRY_AFTER_S = _int("DB_RETRY_AFTER_S", 5)  # Retry-After of the 503 a lost database becomes
    DB_UNAVAILABLE_AFTER_S = _float("DB_UNAVAILABLE_AFTER_S", 4.5)  # longest wait on the database anywhere (writer)
    # the test suite's servers only (tests/live_server.py): argon2 at its minimum cost (backend/passwords.py)
    ARGON2_CHEAP_FOR_TESTS = os.environ.get("ARGON2_CHEAP_FOR_TESTS") == "1"

    # Flask / extensions
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)
    JSON_MAX_DEPTH = _int("JSON_MAX_DEPTH", 64)  # deeper JSON bodies are a 400 before parsing (backend.web.bodies)
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
    ARGON2_CHEAP_FOR_TESTS = True  # thousands of accounts and cards: argon2 at its minimum (backend/passwords.py)


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
