"""A local stand-in for the browsers' push services (RFC 8030), for the Web Push tests.

It decrypts every message with the subscription's own private key (RFC 8291 aes128gcm,
http_ece) and verifies the VAPID JWT (RFC 8292: ES256 with the key the server serves,
``aud`` = the endpoint's origin, ``exp`` within 24 h, ``sub``) before it answers 201, as a real
push service and browser would. Answers can be scripted per subscription (410, 429, 503 …).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# For the browser tests (tests/webapp): the page's PushManager.subscribe stubbed, as Chromium's own push service
# (Google's) is not reachable here; ``STUB_SUBSCRIBE % json.dumps(browser.subscription())`` as an init script hands
# out that subscription of this stand-in. Everything after it (the server, the outbox, the push service, the
# service worker) is real.
STUB_SUBSCRIBE = """
(() => {
  const given = %s;
  let current = null;
  PushManager.prototype.subscribe = async function (options) {
    self.__ptsSubscribedWith = Array.from(new Uint8Array(options.applicationServerKey));
    current = {
      endpoint: given.endpoint, expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: new Uint8Array(options.applicationServerKey).buffer },
      toJSON() { return { endpoint: given.endpoint, expirationTime: null, keys: given.keys }; },
      async unsubscribe() { current = null; return true; },
    };
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""


@dataclass
class Browser:
    """One browser's push subscription: the keys only the browser holds, and what it received."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    def subscription(self) -> dict[str, Any]:
        raw = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                          serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": b64url(raw),
                                                                            "auth": b64url(self.auth)}}


@dataclass
class Delivery:
    """One push the stand-in accepted: where, the headers, the decrypted payload and the VAPID claims."""

    path: str
    headers: dict[str, str]
    payload: dict[str, Any]
    claims: dict[str, Any]


@dataclass
class PushService:
    """A stand-in for fcm.googleapis.com/wp, updates.push.services.mozilla.com, web.push.apple.com."""

    base: str = ""
    vapid_public_key: str = ""  # what GET /api/v1/mobile/webpush/key served
    browsers: dict[str, Browser] = field(default_factory=dict)
    received: list[Delivery] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)  # every POST path, also the refused ones
    errors: list[str] = field(default_factory=list)  # messages that failed decryption or VAPID checks
    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def browser(self) -> Browser:
        """A new browser subscribed at this service."""
        name = f"sub-{next(self._ids)}-{os.urandom(6).hex()}"
        found = Browser(f"{self.base}/wp/{name}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        self.browsers[f"/wp/{name}"] = found
        return found

    def answer(self, browser: Browser, *responses: tuple[int, dict[str, str]]) -> None:
        """Script the answers for one subscription (the last one repeats)."""
        self.script[browser.endpoint.removeprefix(self.base)] = list(responses)

    def for_browser(self, browser: Browser) -> list[Delivery]:
        with self.lock:
            return [d for d in self.received if d.path == browser.endpoint.removeprefix(self.base)]

    def check(self, path: str, headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
        """Verify the VAPID JWT and decrypt the body, as a real push service and browser would."""
        scheme, _, params = headers["authorization"].partition(" ")
        assert scheme == "vapid", headers["authorization"]
        parts = dict(p.split("=", 1) for p in params.split(","))
        assert parts["k"] == self.vapid_public_key  # the key the app subscribed with
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        claims = jwt.decode(parts["t"], key, algorithms=["ES256"], audience=self.base,
                            options={"require": ["aud", "exp", "sub"]})
        assert claims["exp"] <= time.time() + 24 * 3600
        assert claims["sub"].startswith(("mailto:", "https://"))
        assert headers["content-encoding"] == "aes128gcm"
        browser = self.browsers[path]
        plain = http_ece.decrypt(body, private_key=browser.private_key, auth_secret=browser.auth,
                                 version="aes128gcm")
        return json.loads(plain), claims


@contextmanager
def serving() -> Iterator[PushService]:
    """Run the stand-in on 127.0.0.1 (a free port) for the ``with`` block."""
    state = PushService()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with state.lock:
                state.posts.append(self.path)
                queue = state.script.get(self.path)
                status, extra = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else (201, {})
            if self.path not in state.browsers:
                status, extra = 404, {}
            elif status == 201:
                try:
                    payload, claims = state.check(self.path, headers, body)
                except Exception as exc:  # noqa: BLE001 - a refused message is the test's failure
                    with state.lock:
                        state.errors.append(f"{exc.__class__.__name__}: {exc}")
                    status, extra = 400, {}
                else:
                    with state.lock:
                        state.received.append(Delivery(self.path, headers, payload, claims))
                    extra = {"Location": f"{state.base}/m/{next(state._ids)}"}
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)
