"""The card-signing keys: ES256 (P-256) key pairs kept in ``CARD_KEYS_DIR``, rotated by ``flask keys rotate``.

Layout of the folder (mode 0700):

- ``<kid>.pem``: one private key, PKCS#8, encrypted at rest with a passphrase derived from
  ``CARD_KEYS_PASSPHRASE`` (default: ``SECRET_KEY``) by HKDF-SHA256; file mode 0600.
  Private keys are never served, logged or put in the database.
- ``keyring.json``: which key signs new cards (``current``) and when each key was created and
  retired. Written atomically (temporary file + rename) under an exclusive ``flock``, so several
  server processes and the CLI may start or rotate at the same time.

The first key is created on first use. Loaded key objects are cached per process; a change of
``keyring.json`` (a rotation by another process) is noticed with one ``stat`` per use.
The ``kid`` is the first 16 characters of the key's RFC 7638 JWK thumbprint.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

from backend.models_base import utcnow

KEYRING = "keyring.json"
ALGORITHM = "ES256"


class KeyStoreError(Exception):
    """The key folder is unreadable, or a key cannot be decrypted (wrong passphrase)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public key as a JWK (RFC 7517) without ``kid``."""
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """A short ``kid``: the start of the RFC 7638 thumbprint of the public key."""
    jwk = public_jwk(public_key)
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())[:16]


@dataclass(frozen=True)
class SigningKey:
    """One key pair's public half and its life."""

    kid: str
    created_at: datetime
    retired_at: datetime | None
    public_key: ec.EllipticCurvePublicKey

    def jwk(self) -> dict[str, str]:
        """The public JWK with ``kid``, ``use`` and ``alg``."""
        return {**public_jwk(self.public_key), "kid": self.kid, "use": "sig", "alg": ALGORITHM}


class KeyStore:
    """The card-signing keys in one folder, with a per-process cache of loaded keys."""

    def __init__(self, directory: Path, passphrase: bytes) -> None:
        self.directory = directory
        self._passphrase = passphrase
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._current: str | None = None
        self._keys: dict[str, SigningKey] = {}
        self._private: dict[str, ec.EllipticCurvePrivateKey] = {}

    # -- reading ------------------------------------------------------------------------
    def _keyring_path(self) -> Path:
        return self.directory / KEYRING

    def _stamp_now(self) -> tuple[int, int] | None:
        try:
            st = self._keyring_path().stat()
            return st.st_ino, st.st_mtime_ns
        except FileNotFoundError:
            return None

    def _refresh(self) -> None:
        """Reload the keyring when it changed on disk (cheap: one stat when it did not)."""
        stamp = self._stamp_now()
        if stamp is not None and stamp == self._stamp:
            return
        with self._lock:
            stamp = self._stamp_now()
            if stamp is None:
                self._create_first_key()
                stamp = self._stamp_now()
            if stamp == self._stamp:
                return
            ring = self._read_keyring()
            keys: dict[str, SigningKey] = {}
            for entry in ring["keys"]:
                kid = entry["kid"]
                known = self._keys.get(kid)
                public_key = known.public_key if known else self._load_private(kid).public_key()
                keys[kid] = SigningKey(kid=kid, created_at=datetime.fromisoformat(entry["created_at"]),
                                       retired_at=(datetime.fromisoformat(entry["retired_at"])
                                                   if entry.get("retired_at") else None),
                                       public_key=public_key)
            self._keys, self._current, self._stamp = keys, ring["current"], stamp

    def _read_keyring(self) -> dict[str, Any]:
        try:
            return json.loads(self._keyring_path().read_text())
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"cannot read {self._keyring_path()}: {exc}") from exc

    def _load_private(self, kid: str) -> ec.EllipticCurvePrivateKey:
        cached = self._private.get(kid)
        if cached is not None:
            return cached
        try:
            pem = (self.directory / f"{kid}.pem").read_bytes()
            key = serialization.load_pem_private_key(pem, password=self._passphrase)
        except (OSError, ValueError, TypeError) as exc:
            raise KeyStoreError(f"cannot load card-signing key {kid}: {exc.__class__.__name__} "
                                "(missing file, or CARD_KEYS_PASSPHRASE/SECRET_KEY changed)") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise KeyStoreError(f"card-signing key {kid} is not a P-256 key")
        self._private[kid] = key
        return key

    # -- writing ------------------------------------------------------------------------
    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _write_private(self, key: ec.EllipticCurvePrivateKey) -> str:
        kid = key_id(key.public_key())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(self._passphrase))
        path = self.directory / f"{kid}.pem"
        tmp = path.with_suffix(".pem.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return kid

    def _write_keyring(self, ring: dict[str, Any]) -> None:
        path = self._keyring_path()
        tmp = path.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(ring, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def _new_key_entry(self) -> dict[str, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        kid = self._write_private(key)
        self._private[kid] = key
        return {"kid": kid, "created_at": utcnow().isoformat(), "retired_at": None}

    def _create_first_key(self) -> None:
        with self._exclusive():
            if self._keyring_path().exists():  # another process was first
                return
            entry = self._new_key_entry()
            self._write_keyring({"current": entry["kid"], "keys": [entry]})

    def rotate(self) -> SigningKey:
        """Make a new key current and retire the old one; cards signed before keep verifying."""
        self._refresh()
        with self._exclusive():
            ring = self._read_keyring()
            now = utcnow().isoformat()
            for entry in ring["keys"]:
                if entry["kid"] == ring["current"]:
                    entry["retired_at"] = now
            entry = self._new_key_entry()
            ring["keys"].append(entry)
            ring["current"] = entry["kid"]
            self._write_keyring(ring)
        self._refresh()
        return self._keys[entry["kid"]]

    # -- use ----------------------------------------------------------------------------
    def current(self) -> tuple[SigningKey, ec.EllipticCurvePrivateKey]:
        """The key that signs new cards, creating the first one on first use."""
        self._refresh()
        assert self._current is not None
        return self._keys[self._current], self._load_private(self._current)

    def public_key(self, kid: str) -> SigningKey | None:
        """A known key by ``kid`` (current or retired), or None."""
        self._refresh()
        return self._keys.get(kid)

    def all_keys(self) -> list[SigningKey]:
        """Every key, oldest first."""
        self._refresh()
        return sorted(self._keys.values(), key=lambda k: k.created_at)

    def current_kid(self) -> str:
        """The ``kid`` of the key that signs new cards."""
        self._refresh()
        assert self._current is not None
        return self._current


def _passphrase(app: Flask) -> bytes:
    secret = app.config.get("CARD_KEYS_PASSPHRASE") or app.config["SECRET_KEY"]
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"pts-card-signing-keys",
                   info=b"encryption at rest").derive(secret.encode())
    return base64.b64encode(derived)


def store(app: Flask | None = None) -> KeyStore:
    """The app's key store (one per app and process, created on first use)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    ks = app.extensions.get("card_keys")
    if ks is None:
        directory = Path(app.config.get("CARD_KEYS_DIR") or os.path.join(app.instance_path, "keys"))
        ks = app.extensions.setdefault("card_keys", KeyStore(directory, _passphrase(app)))
    return ks
