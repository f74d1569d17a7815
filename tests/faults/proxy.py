"""A TCP proxy that plays the network between the service and its database: forward, cut, blackhole.

- ``forward()``: bytes flow both ways (a new connection is connected to the upstream).
- ``cut()``: every open connection is closed and new ones are refused (nothing listens): a database
  that went down, or a firewall that rejects.
- ``blackhole()``: open connections stay open and carry nothing; new ones are accepted and held —
  a network that drops packets, or a database server that hangs. Nothing is answered, nothing
  is refused: only the client's own deadlines end a wait.

Threads, no dependencies; one thread per connection.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

FORWARD, CUT, BLACKHOLE = "forward", "cut", "blackhole"
POLL_S = 0.05


class _Pair:
    """One client connection and, once forwarding, its upstream connection."""

    def __init__(self, client: socket.socket) -> None:
        self.client = client
        self.upstream: socket.socket | None = None
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()


class TcpProxy:
    """Listens on 127.0.0.1:``port`` and passes connections on to ``upstream`` (host, port)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = FORWARD
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._listener: socket.socket | None = None
        self.port = self._listen(0)
        self.accepted = 0

    # --- control ---------------------------------------------------------------------------
    def forward(self) -> None:
        """Let bytes flow again (listening again after a cut; held connections go through)."""
        with self._lock:
            self.mode = FORWARD
            if self._listener is None:
                self._listen(self.port)

    def cut(self) -> None:
        """Close every connection and refuse new ones."""
        with self._lock:
            self.mode = CUT
            listener, self._listener = self._listener, None
            pairs, self._pairs = set(self._pairs), set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.close()
        for pair in pairs:
            pair.close()

    def blackhole(self) -> None:
        """Keep every connection open but carry nothing; accept new ones and hold them."""
        with self._lock:
            self.mode = BLACKHOLE

    def close(self) -> None:
        """Stop the proxy."""
        self.cut()

    @property
    def open_connections(self) -> int:
        """Connections currently held open by the proxy."""
        with self._lock:
            return len(self._pairs)

    # --- work ------------------------------------------------------------------------------
    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(256)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="proxy-accept", daemon=True).start()
        return listener.getsockname()[1]

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut()
                return
            pair = _Pair(client)
            with self._lock:
                if self.mode == CUT:
                    pair.close()
                    continue
                self._pairs.add(pair)
                self.accepted += 1
            threading.Thread(target=self._serve, args=(pair,), name="proxy-pair", daemon=True).start()

    def _serve(self, pair: _Pair) -> None:
        try:
            while self.mode == BLACKHOLE and not pair.closed.is_set():  # accepted, and held
                time.sleep(POLL_S)
            if pair.closed.is_set():
                return
            pair.upstream = socket.create_connection(self.upstream, timeout=5)
            if pair.closed.is_set():  # cut meanwhile
                pair.close()
                return
            self._pump(pair)
        except (OSError, ValueError):
            pass
        finally:
            pair.close()
            with self._lock:
                self._pairs.discard(pair)

    def _pump(self, pair: _Pair) -> None:
        assert pair.upstream is not None
        other = {pair.client: pair.upstream, pair.upstream: pair.client}
        while not pair.closed.is_set():
            if self.mode == BLACKHOLE:  # nothing is read, nothing is sent: the bytes wait in the kernel
                time.sleep(POLL_S)
                continue
            readable, _, _ = select.select(list(other), [], [], POLL_S)
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                if self.mode == BLACKHOLE:  # it turned while we were reading: hold these bytes too
                    while self.mode == BLACKHOLE and not pair.closed.is_set():
                        time.sleep(POLL_S)
                other[sock].sendall(data)
