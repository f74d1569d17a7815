"""Fixtures of the notifications tests: a local stand-in for FCM (and Google's OAuth token
endpoint), a test service account, and tourists with devices and latest positions."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT_ID = "pts-test-project"
ACCESS_TOKEN = "ya29.local-test-access-token"
DATA = Path(__file__).parent / "data"


@dataclass
class FcmCall:
    """One request the stand-in received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeFcm:
    """Answers FCM v1 ``messages:send`` like Google does; per-token answers can be scripted."""

    url: str = ""
    calls: list[FcmCall] = field(default_factory=list)
    token_requests: list[str] = field(default_factory=list)
    # device token -> list of (status, json body, headers) answered in turn (the last one repeats)
    script: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay_s: float = 0.0  # how long each send takes (a slow FCM)

    def sends(self) -> list[dict[str, Any]]:
        """The ``message`` objects of every send request, in arrival order."""
        with self.lock:
            return [c.body["message"] for c in self.calls if c.path.endswith("/messages:send")]

    def answer(self, token: str, *responses: tuple[int, dict[str, Any], dict[str, str]]) -> None:
        """Script the answers for ``token``."""
        self.script[token] = list(responses)

    def respond(self, token: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.lock:
            queue = self.script.get(token)
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
            return 200, {"name": f"projects/{PROJECT_ID}/messages/0:{next(self._ids)}"}, {}


def unregistered() -> tuple[int, dict[str, Any], dict[str, str]]:
    """FCM's answer for a token whose app was uninstalled."""
    return 404, {"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
                           "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                        "errorCode": "UNREGISTERED"}]}}, {}


def unavailable(status: int = 503, retry_after: int | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """FCM overloaded or failing (5xx)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return status, {"error": {"code": status, "message": "The service is currently unavailable.",
                              "status": "UNAVAILABLE",
                              "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                           "errorCode": "UNAVAILABLE"}]}}, headers


@pytest.fixture
def fcm() -> Any:
    """A local HTTP server standing in for fcm.googleapis.com and oauth2.googleapis.com/token."""
    state = FakeFcm()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def _reply(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/token":
                with state.lock:
                    state.token_requests.append(raw.decode())
                self._reply(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}, {})
                return
            body = json.loads(raw)
            with state.lock:
                state.calls.append(FcmCall(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if state.delay_s:
                time.sleep(state.delay_s)
            if self.path != f"/v1/projects/{PROJECT_ID}/messages:send":
                self._reply(404, {"error": {"code": 404, "message": "wrong path", "status": "NOT_FOUND"}}, {})
                return
            self._reply(*state.respond(body["message"].get("token", "")))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def service_account(tmp_path: Path, fcm: FakeFcm) -> Path:
    """A service-account JSON with a fresh RSA key whose token endpoint is the local stand-in."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": PROJECT_ID, "private_key_id": uuid.uuid4().hex,
        "private_key": pem, "client_email": f"push@{PROJECT_ID}.iam.gserviceaccount.com",
        "client_id": "100000000000000000001", "token_uri": f"{fcm.url}/token",
    }))
    return path


@pytest.fixture
def fcm_config(service_account: Path, fcm: FakeFcm) -> dict[str, Any]:
    """Settings that send push through firebase-admin to the local stand-in."""
    return {"FIREBASE_CREDENTIALS": str(service_account), "FCM_ENDPOINT": fcm.url}


class Tourists:
    """Card holders with an enrolled device and (optionally) a latest position."""

    def __init__(self, app: Any, factories: Any) -> None:
        self._app = app
        self._factories = factories
        self._count = 0

    def add(self, *, lat: float | None = None, lon: float | None = None, language: str = "en",
            device_language: str | None = None, push_token: str | None = "auto", status: str = "active",
            days: int = 14, at_sea: bool = False, devices: int = 1) -> dict[str, Any]:
        """A tourist; returns ``{card_id, device_ids, tokens}``."""
        from backend.cards.models import Card
        from backend.extensions import db
        from backend.geometry import point
        from backend.models_base import utcnow
        from backend.tracking.models import Device, LatestPosition

        card_id = self._factories.card(language=language, days=days, status=status)
        device_ids, tokens = [], []
        with self._app.app_context():
            for _ in range(devices):
                self._count += 1
                device_id = f"dev-{uuid.uuid4().hex[:12]}"
                token = f"fcm-token-{self._count}-{uuid.uuid4().hex[:8]}" if push_token == "auto" else push_token
                db.session.add(Device(id=device_id, card_id=card_id, platform="android", push_token=token,
                                      language=device_language, osmand_id=uuid.uuid4().hex))
                device_ids.append(device_id)
                tokens.append(token)
            if lat is not None and lon is not None:
                now = utcnow()
                db.session.add(LatestPosition(card_id=card_id, lat=lat, lon=lon, geom=point(lat, lon),
                                              recorded_at=now - timedelta(minutes=5), received_at=now,
                                              last_contact_at=now, at_sea=at_sea))
            if days < 0:  # an expired card
                card = db.session.get(Card, card_id)
                card.expires_at = utcnow() - timedelta(hours=1)
            db.session.commit()
        return {"card_id": card_id, "device_ids": device_ids, "tokens": tokens}

    def device_token(self, device_id: str) -> str:
        """A device token for ``device_id`` (as enrollment issues it)."""
        from backend.auth.tokens import TokenKind, encode
        from backend.extensions import db
        from backend.tracking.devices import token_hash
        from backend.tracking.models import Device

        with self._app.app_context():
            token = encode(TokenKind.DEVICE, device_id, ttl_s=None)
            db.session.get(Device, device_id).token_hash = token_hash(token)
            db.session.commit()
        return token


@pytest.fixture
def tourists(app: Any, factories: Any) -> Tourists:
    """Tourists with devices and positions."""
    return Tourists(app, factories)


def outbox_rows(app: Any, **filters: Any) -> list[Any]:
    """Outbox messages (detached), oldest first."""
    from sqlalchemy import select

    from backend.extensions import db
    from notifications.models import OutboxMessage

    with app.app_context():
        query = select(OutboxMessage).filter_by(**filters).order_by(OutboxMessage.id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows
