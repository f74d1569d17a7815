"""Real server processes for the tests: ``python wsgi.py`` exactly as the contract runs it.

One helper for every test folder that needs a live server (Socket.IO clients, headless
Chromium, concurrent requests): it binds a free port on 127.0.0.1, points the process at the
test's database, secret and card keys, waits for ``/healthz``, and can be stopped and started
again on the same port (a server restart under an open console).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``python wsgi.py`` in a subprocess, bound to 127.0.0.1 on a free port."""

    def __init__(self, *, database_url: str, secret_key: str, card_keys_dir: str, workdir: Path,
                 extra_env: dict[str, str] | None = None, name: str = "server", port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.log_path = workdir / f"{name}-{self.port}.log"
        env = {k: v for k, v in os.environ.items()
               if k not in ("SOCKETIO_MESSAGE_QUEUE", "SOCKETIO_CHANNEL", "PUBLIC_BASE_URL", "ARGON2_CHEAP_FOR_TESTS")}
        env.update({
            "DATABASE_URL": database_url, "SECRET_KEY": secret_key, "HOST": "127.0.0.1", "PORT": str(self.port),
            "RUN_PERIODIC_JOBS": "0", "INSTANCE_PATH": str(workdir / f"instance-{name}"),
            "CARD_KEYS_DIR": card_keys_dir, "THREADS": "16", "LOG_LEVEL": "WARNING",
            # argon2 at its minimum, like the tests' own app (backend/passwords.py); "0" for the real cost
            "ARGON2_CHEAP_FOR_TESTS": "1",
            **(extra_env or {}),
        })
        self._env = env
        self._log = open(self.log_path, "a")  # noqa: SIM115  (closed in stop())
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        # its own process group: gunicorn's master forks the worker that serves, and a crash
        # must take both down (a killed master alone leaves the worker serving for a while)
        process = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=self._env, stdout=self._log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.process = process
        self._wait_ready()
        return process

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not become ready:\n{self.log()}")

    def log(self) -> str:
        """What the server printed."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def _terminate(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def kill(self) -> None:
        """End the server abruptly (a crash or a pulled plug): master and worker, no goodbye to anyone."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def start_again(self) -> None:
        """Start a new process on the same port, database and keys (after ``kill`` or ``stop``)."""
        self._terminate()
        if self._log.closed:
            self._log = open(self.log_path, "a")  # noqa: SIM115  (closed in stop())
        self._spawn()

    def discard(self) -> None:
        """End the server after its test, as :meth:`kill` does, and close its log.

        Nothing is left to see once the test is over: its database is dropped or emptied next, so
        waiting for an orderly exit (the worker's interpreter winding down takes seconds on a busy
        machine) would only slow the suite. Tests of an orderly stop call :meth:`stop` themselves.
        """
        self.kill()
        if not self._log.closed:
            self._log.close()

    def stop(self) -> None:
        """Stop the process and close its log.

        gunicorn's quick shutdown (SIGINT): its graceful one (SIGTERM) waits up to 10 s for open
        WebSockets, which after a test are only the test's own.
        """
        self._terminate(signal.SIGINT)
        if not self._log.closed:
            self._log.close()
