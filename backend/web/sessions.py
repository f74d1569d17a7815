"""No cookie sessions: staff and devices authenticate with bearer tokens, no page keeps one.

Flask opens a signed-cookie session on every request (building its signer each time); nothing
here uses ``flask.session``, so every request gets the read-only null session instead — one
less cost on the hot paths (pings, SOS), and no cookie that could ever be forged or stolen.
"""

from __future__ import annotations

from typing import Any

from flask.sessions import NullSession, SecureCookieSessionInterface


class NoSessions(SecureCookieSessionInterface):
    """The null session for every request; nothing is ever stored or sent as a cookie."""

    def open_session(self, app: Any, request: Any) -> NullSession:
        """A null session (writing to it raises: a bug, since no code should use sessions)."""
        return self.make_null_session(app)

    def save_session(self, app: Any, session: Any, response: Any) -> None:
        """Nothing to save."""
