"""CPU-heavy work runs off the event loop: other greenlets keep running while argon2 hashes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from backend import runtime

ROOT = Path(__file__).resolve().parents[2]

# Run under gevent, as `python wsgi.py` does: a greenlet ticks every millisecond while the main
# greenlet hashes a password (the service's real argon2 parameters) inline, then through off_loop.
PROBE = """
from gevent import monkey
monkey.patch_all()
import json, threading, time
import gevent
from backend import runtime
from backend.auth.service import _hasher

ticks = 0
def ticker():
    global ticks
    while True:
        gevent.sleep(0.001)
        ticks += 1

def during(work):
    global ticks
    gevent.sleep(0.01)
    ticks = 0
    work()
    return ticks

gevent.spawn(ticker)
gevent.sleep(0.01)
inline = during(lambda: _hasher.hash("correct horse battery"))
off = during(lambda: runtime.off_loop(_hasher.hash, "correct horse battery"))
worker = runtime.off_loop(threading.get_native_id)
print(json.dumps({"cooperative": runtime.cooperative(), "inline": inline, "off_loop": off,
                  "other_thread": worker != threading.get_native_id()}))
"""


def test_off_loop_keeps_other_connections_running_while_a_password_is_hashed():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["cooperative"] is True
    assert result["inline"] == 0  # inline, the event loop stands still for the whole hash
    assert result["off_loop"] >= 1  # off the loop, the others are served meanwhile
    assert result["other_thread"] is True


def test_without_gevent_off_loop_simply_calls():
    assert runtime.cooperative() is False
    assert runtime.async_mode() == "threading"
    assert runtime.off_loop(sum, [1, 2, 3]) == 6
