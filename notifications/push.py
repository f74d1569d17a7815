"""Push channels behind one small interface: FCM through firebase-admin, or log-only.

:func:`channel_for` picks FCM when ``FIREBASE_CREDENTIALS`` (a service-account JSON file) is
configured; otherwise :class:`LogChannel` logs each message and reports it ``held``, so the
embedded default works without a Google account (messages stay in the outbox and the inbox).

``FCM_ENDPOINT`` points the FCM v1 ``messages:send`` calls at another base URL (a staging
proxy, or the local stand-in server of the tests). firebase-admin 7.7 has no public option for
this (see firebase/firebase-admin-java#374 and the Go SDK's ``WithEndpoint`` for the same
request), so :class:`FcmChannel` sets the messaging service's send URL right after creating it;
the pinned version and the tests, which drive the real SDK against a local server, guard it.
The OAuth token endpoint comes from the service-account file's ``token_uri``.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from notifications.webpush import WebPushTarget

log = logging.getLogger(__name__)

MAX_BATCH = 100  # send_each uses one thread per message: keep batches modest


class Outcome(StrEnum):
    """What became of one push."""

    SENT = "sent"
    UNREGISTERED = "unregistered"  # the token is dead: drop it from its device
    RETRY = "retry"  # temporary (5xx, quota, network): try again later
    REJECTED = "rejected"  # permanent for this message (e.g. invalid argument)
    HELD = "held"  # not pushed by this channel (log-only)


@dataclass(frozen=True)
class PushRequest:
    """One notification to one device: an FCM token, or (Web Push channel) a browser subscription."""

    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    urgent: bool = False
    ttl_s: int | None = None
    webpush: WebPushTarget | None = None


@dataclass(frozen=True)
class PushResult:
    """The channel's answer for one request."""

    outcome: Outcome
    provider_message_id: str | None = None
    error: str | None = None
    retry_after_s: float | None = None


class PushChannel(Protocol):
    """Something that delivers pushes; one result per request, in order, never raising."""

    name: str

    def send(self, requests: Sequence[PushRequest]) -> list[PushResult]:
        """Deliver ``requests``; one result per request."""
        ...


class LogChannel:
    """No push provider configured: log each message and keep it in the outbox (``held``)."""

    name = "log"

    def send(self, requests: Sequence[PushRequest]) -> list[PushResult]:
        """Log every request; nothing leaves the machine."""
        for request in requests:
            log.info("push not configured, held in outbox: %s | %s", request.title, request.data.get("topic"))
        return [PushResult(Outcome.HELD, error="no push channel configured (FIREBASE_CREDENTIALS unset)")
                for _ in requests]


class FcmChannel:
    """Firebase Cloud Messaging (HTTP v1) through firebase-admin: ``messaging.Message`` + ``send_each``."""

    name = "fcm"

    def __init__(self, credentials_path: str, *, endpoint: str | None = None, timeout_s: float = 15) -> None:
        import firebase_admin
        from firebase_admin import credentials, messaging

        self._messaging = messaging
        cert = credentials.Certificate(credentials_path)
        name = f"pts-fcm-{credentials_path}-{endpoint or 'default'}"
        try:
            self._app = firebase_admin.get_app(name)
        except ValueError:
            self._app = firebase_admin.initialize_app(cert, {"httpTimeout": timeout_s}, name=name)
        service = messaging._get_messaging_service(self._app)
        base = "https://fcm.googleapis.com"
        if endpoint:
            # firebase-admin has no public setting for this (see the module docstring)
            base = endpoint.rstrip("/")
            service._fcm_url = f"{base}/v1/projects/{self._app.project_id}/messages:send"
        # The outbox owns retries (backoff, Retry-After) without blocking the sweep: the SDK's own
        # in-call retries of 500/503 (which sleep, up to Retry-After, four times) are switched off.
        service._client.session.mount(base, HTTPAdapter(pool_connections=MAX_BATCH, pool_maxsize=MAX_BATCH,
                                                        max_retries=Retry(total=1, connect=1, read=0, status=0,
                                                                          redirect=0, raise_on_status=False)))

    def _message(self, request: PushRequest) -> Any:
        m = self._messaging
        ttl = request.ttl_s if request.ttl_s and request.ttl_s > 0 else None
        with warnings.catch_warnings():
            # firebase-admin 7.7 deprecates ``token`` for Firebase installation ids (``fid``), but
            # the companion app registers an FCM registration token, which only ``token`` addresses.
            warnings.filterwarnings("ignore", message="Message.token is deprecated", category=DeprecationWarning)
            message = m.Message(token=request.token)
        message.notification = m.Notification(title=request.title, body=request.body)
        message.data = request.data
        message.android = m.AndroidConfig(priority="high" if request.urgent else "normal", ttl=ttl,
                                          notification=m.AndroidNotification(channel_id="safety"))
        message.apns = m.APNSConfig(headers={"apns-priority": "10" if request.urgent else "5"},
                                    payload=m.APNSPayload(aps=m.Aps(sound="default")))
        return message

    def send(self, requests: Sequence[PushRequest]) -> list[PushResult]:
        """Send in batches with ``messaging.send_each``; map each answer to an :class:`Outcome`."""
        results: list[PushResult] = []
        for start in range(0, len(requests), MAX_BATCH):
            chunk = list(requests[start:start + MAX_BATCH])
            chunk_results: list[PushResult | None] = [None] * len(chunk)
            messages, positions = [], []
            for i, request in enumerate(chunk):
                try:
                    message = self._message(request)
                    self._messaging._MessagingService.encode_message(message)  # validate before sending
                except ValueError as exc:  # this message can never be sent
                    chunk_results[i] = PushResult(Outcome.REJECTED, error=_short(exc))
                    continue
                messages.append(message)
                positions.append(i)
            if messages:
                try:
                    batch = self._messaging.send_each(messages, app=self._app)
                    answers = [self._result(response) for response in batch.responses]
                except Exception as exc:  # credentials, token endpoint, network: all temporary
                    log.warning("FCM batch of %d failed: %s", len(messages), exc)
                    answers = [PushResult(Outcome.RETRY, error=_short(exc)) for _ in messages]
                for i, answer in zip(positions, answers, strict=True):
                    chunk_results[i] = answer
            results.extend(r for r in chunk_results if r is not None)
        return results

    def _result(self, response: Any) -> PushResult:
        if response.success:
            return PushResult(Outcome.SENT, provider_message_id=response.message_id)
        return classify_error(response.exception)


def classify_error(exc: BaseException | None) -> PushResult:
    """Map a firebase-admin error to an outcome (FCM v1 error codes)."""
    from firebase_admin import exceptions, messaging

    error = _short(exc)
    if isinstance(exc, messaging.UnregisteredError | messaging.SenderIdMismatchError | exceptions.NotFoundError):
        return PushResult(Outcome.UNREGISTERED, error=error)
    if isinstance(exc, exceptions.InvalidArgumentError):
        return PushResult(Outcome.REJECTED, error=error)
    return PushResult(Outcome.RETRY, error=error, retry_after_s=_retry_after(exc))


def _retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "http_response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _short(exc: BaseException | None) -> str:
    code = getattr(exc, "code", None)
    text = f"{code}: {exc}" if code else f"{exc.__class__.__name__}: {exc}"
    return text[:500]


_channels: dict[tuple[str, str | None], FcmChannel] = {}
_lock = threading.Lock()


def channel_for(config: Any) -> PushChannel:
    """The push channel the configuration asks for (FCM when credentials are set, else log-only)."""
    path = config.get("FIREBASE_CREDENTIALS")
    if not path:
        return LogChannel()
    key = (path, config.get("FCM_ENDPOINT"))
    with _lock:
        channel = _channels.get(key)
        if channel is None:
            channel = _channels[key] = FcmChannel(path, endpoint=key[1])
        return channel
