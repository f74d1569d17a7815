"""Web Push for the web companion (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID).

- **VAPID keys** are kept like the card-signing keys (:class:`backend.cards.keys.KeyStore`): an
  encrypted P-256 key in ``WEBPUSH_KEYS_DIR`` (default: the ``webpush`` folder inside the card
  keys' folder), created on first use, with its own passphrase derivation. The public key is
  served as the application server key (``GET /api/v1/mobile/webpush/key``).
- **Subscriptions** (one per device) are validated before they are stored: the endpoint must be
  an ``https://`` URL on a host of ``WEBPUSH_ALLOWED_HOSTS`` (a listed ``127.0.0.1``/``localhost``
  may use ``http://``), ``p256dh`` a P-256 point, ``auth`` 16 bytes. The server never posts to
  any other URL (checked again before each post; redirects are never followed).
- **Delivery** is the outbox's: :class:`WebPushChannel` is a :class:`notifications.push.PushChannel`
  whose requests carry the subscription; pywebpush encrypts (aes128gcm) and posts, py-vapid signs.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app
from sqlalchemy import delete, select

from backend.cards.keys import KeyStore
from backend.extensions import db
from backend.models_base import utcnow
from backend.tracking.models import Device
from notifications.models import WebPushSubscription
from notifications.push import Outcome, PushRequest, PushResult

log = logging.getLogger(__name__)

DEFAULT_ALLOWED_HOSTS = ("fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com",
                         "*.notify.windows.com")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
MAX_ENDPOINT_LENGTH = 2048
MAX_PAYLOAD_BYTES = 3000  # push services take 4 KiB of ciphertext; the body is shortened to fit
MAX_TTL_S = 28 * 86400
DEFAULT_TTL_S = 3 * 86400
VAPID_LIFETIME_S = 12 * 3600  # RFC 8292: at most 24 h
SEND_TIMEOUT_S = 10
MAX_PARALLEL = 16


class SubscriptionRefused(ValueError):
    """A subscription the server will not store; ``errors`` names the bad fields."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("the Web Push subscription is not acceptable")
        self.errors = errors


class SubscriptionTaken(Exception):
    """The endpoint is registered to an active device of another card."""


# --- VAPID keys -------------------------------------------------------------------------------

def _passphrase(app: Flask) -> bytes:
    secret = app.config.get("WEBPUSH_KEYS_PASSPHRASE") or app.config["SECRET_KEY"]
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"pts-webpush-vapid-keys",
                   info=b"encryption at rest").derive(secret.encode())
    return base64.b64encode(derived)


def key_store(app: Flask | None = None) -> KeyStore:
    """The app's VAPID key store (one per app and process, the key created on first use)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    ks = app.extensions.get("webpush_keys")
    if ks is None:
        directory = app.config.get("WEBPUSH_KEYS_DIR")
        if not directory:
            cards = app.config.get("CARD_KEYS_DIR") or os.path.join(app.instance_path, "keys")
            directory = os.path.join(cards, "webpush")
        ks = app.extensions.setdefault("webpush_keys", KeyStore(Path(directory), _passphrase(app)))
    return ks


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5), as the Push API uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; ``ValueError`` when it is not base64url."""
    if not isinstance(text, str) or not text or any(c not in _B64URL for c in text.rstrip("=")):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def public_key(app: Flask | None = None) -> str:
    """The VAPID application server key: the uncompressed P-256 point, base64url."""
    signing_key, _ = key_store(app).current()
    raw = signing_key.public_key.public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint)
    return b64url(raw)


# --- subscriptions ----------------------------------------------------------------------------

def allowed_hosts(config: Mapping[str, Any]) -> tuple[str, ...]:
    """``WEBPUSH_ALLOWED_HOSTS`` as lower-case host patterns (``*.`` matches any subdomain)."""
    value = config.get("WEBPUSH_ALLOWED_HOSTS")
    if value is None:
        return DEFAULT_ALLOWED_HOSTS
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(h.strip().lower() for h in items if h and h.strip())


def _host_listed(host: str, patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def endpoint_problem(endpoint: str, config: Mapping[str, Any]) -> str | None:
    """Why the server will not post to ``endpoint`` (None when it may)."""
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        return f"at most {MAX_ENDPOINT_LENGTH} characters"
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        return "must be an https:// URL of a push service"
    if not _host_listed(host, allowed_hosts(config)):
        return f"the host {host} is not a push service this server posts to (WEBPUSH_ALLOWED_HOSTS)"
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        return "must be an https:// URL (http:// only for a listed 127.0.0.1 or localhost)"
    return None


def keys_problems(p256dh: str, auth: str) -> dict[str, list[str]]:
    """What is wrong with the browser's keys (empty when they are fine)."""
    errors: dict[str, list[str]] = {}
    try:
        point = b64url_decode(p256dh)
        if len(point) != 65 or point[0] != 4:
            raise ValueError("length")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        errors["p256dh"] = ["must be a P-256 public key: 65 bytes, uncompressed (0x04…), base64url"]
    try:
        if len(b64url_decode(auth)) != 16:
            raise ValueError("length")
    except ValueError:
        errors["auth"] = ["must be a 16-byte authentication secret, base64url"]
    return errors


def subscribe(*, device: Device, endpoint: str, p256dh: str, auth: str) -> WebPushSubscription:
    """Store (or replace) the device's subscription; the caller commits.

    ``SubscriptionRefused`` for a host not allowed or bad keys; ``SubscriptionTaken`` when the
    endpoint is held by an active device of another card (a re-enrolled phone of the same card,
    or a revoked device, hands it over).
    """
    errors: dict[str, Any] = {}
    problem = endpoint_problem(endpoint, current_app.config)
    if problem:
        errors["endpoint"] = [problem]
    key_errors = keys_problems(p256dh, auth)
    if key_errors:
        errors["keys"] = key_errors
    if errors:
        raise SubscriptionRefused(errors)
    holder = db.session.scalar(select(WebPushSubscription).where(WebPushSubscription.endpoint == endpoint,
                                                                 WebPushSubscription.device_id != device.id))
    if holder is not None:
        other = db.session.get(Device, holder.device_id)
        if other is not None and other.revoked_at is None and other.card_id != device.card_id:
            raise SubscriptionTaken("this push subscription is registered to another phone")
        db.session.delete(holder)
        db.session.flush()
    now = utcnow()
    subscription = db.session.get(WebPushSubscription, device.id)
    if subscription is None:
        subscription = WebPushSubscription(device_id=device.id, created_at=now)
        db.session.add(subscription)
    subscription.endpoint, subscription.p256dh, subscription.auth = endpoint, p256dh, auth
    subscription.updated_at = now
    db.session.flush()
    return subscription


def unsubscribe(*, device: Device) -> bool:
    """Remove the device's subscription (True when it had one); the caller commits."""
    result = db.session.execute(delete(WebPushSubscription).where(WebPushSubscription.device_id == device.id))
    return bool(result.rowcount)


def forget_subscription(*, device_id: str, endpoint: str) -> None:
    """The push service said the subscription is gone (404/410): remove it, unless replaced since."""
    db.session.execute(delete(WebPushSubscription).where(WebPushSubscription.device_id == device_id,
                                                         WebPushSubscription.endpoint == endpoint))
    log.info("Web Push subscription of device %s is gone: removed", device_id)


# --- the payload ------------------------------------------------------------------------------

def payload(*, title: str, body: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON the service worker shows: ``{title, body, url, kind, incident_id?, broadcast_id?, …}``."""
    kind = str(data.get("topic") or "message")
    out: dict[str, Any] = {"title": title, "body": body, "kind": kind, "url": "/app#inbox"}
    if data.get("incident_id") not in (None, ""):
        out["incident_id"] = int(data["incident_id"])
        out["url"] = f"/app#sos-{out['incident_id']}" if kind.startswith("sos_") else "/app#map"
    if data.get("broadcast_id") not in (None, ""):
        out["broadcast_id"] = int(data["broadcast_id"])
        out["url"] = f"/app#message-{data.get('message_id')}" if data.get("message_id") else "/app#inbox"
    for key in ("message_id", "language", "severity"):
        if data.get(key) not in (None, ""):
            out[key] = str(data[key])
    encoded = json.dumps(out, ensure_ascii=False).encode()
    if len(encoded) > MAX_PAYLOAD_BYTES:  # shorten the body, whole characters only
        excess = len(encoded) - MAX_PAYLOAD_BYTES
        raw = body.encode()
        out["body"] = raw[:max(0, len(raw) - excess - 3)].decode("utf-8", "ignore") + "…"
    return out


# --- the channel ------------------------------------------------------------------------------

@dataclass(frozen=True)
class WebPushTarget:
    """Where one push goes: the subscription as the browser gave it."""

    endpoint: str
    p256dh: str
    auth: str


class _NoRedirects(requests.Session):
    """A session that never follows a redirect (the server posts only to allowed hosts)."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


class WebPushChannel:
    """Web Push through pywebpush (aes128gcm) with a VAPID (RFC 8292) ``Authorization`` header."""

    name = "webpush"

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, *, subject: str,
                 allowed: Mapping[str, Any], timeout_s: float = SEND_TIMEOUT_S) -> None:
        from py_vapid import Vapid02

        self._vapid = Vapid02(private_key=private_key)
        self._subject = subject
        self._allowed = dict(allowed)
        self._timeout_s = timeout_s

    def send(self, requests_: Sequence[PushRequest]) -> list[PushResult]:
        """Post each request to its subscription (a few at a time); one result each, never raising."""
        if not requests_:
            return []
        if len(requests_) == 1:
            return [self._send_one(requests_[0])]
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(requests_))) as pool:
            return list(pool.map(self._send_one, requests_))

    def _send_one(self, request: PushRequest) -> PushResult:
        from pywebpush import WebPusher

        target = request.webpush
        if target is None:
            return PushResult(Outcome.REJECTED, error="no Web Push subscription in the request")
        problem = endpoint_problem(target.endpoint, self._allowed)
        if problem:
            return PushResult(Outcome.REJECTED, error=f"endpoint refused: {problem}")
        parts = urlsplit(target.endpoint)
        claims = {"sub": self._subject, "aud": f"{parts.scheme}://{parts.netloc}",
                  "exp": int(time.time()) + VAPID_LIFETIME_S}
        headers = dict(self._vapid.sign(claims))
        headers["Urgency"] = "high" if request.urgent else "normal"
        if request.data.get("topic"):
            headers["Topic"] = _topic(request.data)
        ttl = request.ttl_s if request.ttl_s is not None else DEFAULT_TTL_S
        data = json.dumps(payload(title=request.title, body=request.body, data=request.data), ensure_ascii=False)
        session = _NoRedirects()
        try:
            pusher = WebPusher({"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
                               requests_session=session)
            response = pusher.send(data, headers, ttl=max(0, min(ttl, MAX_TTL_S)), content_encoding="aes128gcm",
                                   timeout=self._timeout_s)
        except Exception as exc:  # network, TLS, a key the library cannot use: try again later
            return PushResult(Outcome.RETRY, error=f"{exc.__class__.__name__}: {exc}"[:500])
        finally:
            session.close()
        return classify_response(response)


def _topic(data: Mapping[str, Any]) -> str:
    """RFC 8030 ``Topic`` (≤ 32 base64url characters): a newer message of the same one replaces it."""
    raw = f"{data.get('topic')}-{data.get('message_id', '')}"
    return "".join(c if c in _B64URL else "-" for c in raw)[:32]


def classify_response(response: requests.Response) -> PushResult:
    """Map a push service's answer (RFC 8030 §5) to an outcome."""
    status = response.status_code
    text = f"{status} {response.reason or ''}: {(response.text or '')[:300]}".strip()
    if status in (200, 201, 202):
        return PushResult(Outcome.SENT, provider_message_id=response.headers.get("Location"))
    if status in (404, 410):
        return PushResult(Outcome.UNREGISTERED, error=text)
    if status == 429 or status >= 500:
        return PushResult(Outcome.RETRY, error=text, retry_after_s=_retry_after(response))
    return PushResult(Outcome.REJECTED, error=text)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
        except (TypeError, ValueError):
            return None


def channel_for(config: Mapping[str, Any], app: Flask | None = None) -> WebPushChannel:
    """The Web Push channel with this app's VAPID key."""
    _, private_key = key_store(app).current()
    return WebPushChannel(private_key, subject=config.get("WEBPUSH_SUBJECT") or "mailto:safety@phuket.go.th",
                          allowed={"WEBPUSH_ALLOWED_HOSTS": config.get("WEBPUSH_ALLOWED_HOSTS")})
