"""Guessing throttles cannot be turned against staff, and they count every failure exactly once.

The contract: wrong passwords for one account never lock another account out, and an attacker's
wrong passwords from another address never stop the account's owner from signing in (they may
slow them). Counting is one atomic statement, so concurrent failures are all counted, none is a 500.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

LOGIN = "/api/v1/auth/login"
PASSWORD = "correct horse battery"
CENTER = {"REMOTE_ADDR": "203.0.113.191"}  # the whole 191 center behind one address


@pytest.fixture
def pauses(monkeypatch) -> list[float]:  # noqa: ANN001
    """The slow-downs the throttle imposed (recorded instead of slept)."""
    from backend.auth import throttle

    recorded: list[float] = []
    monkeypatch.setattr(throttle, "pause", recorded.append)
    return recorded


def _login(client, username: str, password: str, addr: str) -> int:  # noqa: ANN001
    return client.post(LOGIN, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr}).status_code


def test_an_attacker_elsewhere_slows_the_owner_but_never_locks_them_out(client, auth, pauses):
    owner = auth.user("dispatcher")
    codes = [_login(client, owner.username, f"guess-{i}", "198.51.100.66") for i in range(8)]
    assert codes == [401] * 5 + [429] * 3
    assert pauses == []  # locked at that address before any slow-down
    locked = client.post(LOGIN, json={"username": owner.username, "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "198.51.100.66"})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert locked.get_json()["code"] == 429 and locked.get_json()["message"]

    assert _login(client, owner.username, PASSWORD, CENTER["REMOTE_ADDR"]) == 200
    assert pauses == [0.5]  # the attacked account is slowed, not locked
    # signing in forgets the account's failures: the next sign-in is not slowed
    assert _login(client, owner.username, PASSWORD, CENTER["REMOTE_ADDR"]) == 200
    assert pauses == [0.5]


def test_guesses_from_many_addresses_slow_the_owner_never_lock_them(client, auth, pauses):
    owner = auth.user("immigration")
    codes = [_login(client, owner.username, "wrong-password", f"10.9.0.{i}") for i in range(10)]
    assert codes == [401] * 10  # each address has its own count for the account
    assert pauses == [0.5, 1, 2, 4, 5]  # doubling from the 5th failure, at most THROTTLE_SLOW_MAX_S
    assert _login(client, owner.username, PASSWORD, "10.9.1.1") == 200
    assert pauses[-1] == 5


def test_colleagues_mistakes_behind_one_address_never_lock_another_account(client, auth, pauses):
    colleagues = [auth.user("dispatcher") for _ in range(5)]
    for colleague in colleagues[:4]:  # 20 wrong passwords from the center: the old limit locked everyone
        codes = [_login(client, colleague.username, f"typo-{i}", CENTER["REMOTE_ADDR"]) for i in range(5)]
        assert codes == [401] * 5
    # the one who kept mistyping waits at this desk; everyone else signs in at once
    assert _login(client, colleagues[0].username, PASSWORD, CENTER["REMOTE_ADDR"]) == 429
    assert _login(client, colleagues[4].username, PASSWORD, CENTER["REMOTE_ADDR"]) == 200
    assert pauses == []
    # and the one who mistyped signs in from another desk (another address), a little slowed
    assert _login(client, colleagues[0].username, PASSWORD, "203.0.113.192") == 200
    assert pauses == [0.5]


def test_an_address_that_sprays_guesses_is_locked_and_others_are_not(client, auth, app):
    app.config["LOGIN_MAX_FAILURES_PER_ADDR"] = 8
    victims = [auth.user("dispatcher") for _ in range(5)]
    sprayer = "192.0.2.77"
    codes = [_login(client, victim.username, f"spray-{n}", sprayer) for n in range(2) for victim in victims[:4]]
    assert codes == [401] * 8
    assert _login(client, victims[4].username, PASSWORD, sprayer) == 429
    assert _login(client, victims[4].username, PASSWORD, "192.0.2.78") == 200


def test_concurrent_failures_are_each_counted_once(app):
    """40 threads, each with its own app context and database connection, count one failure each."""
    from backend.auth import throttle
    from backend.auth.models import Throttle
    from backend.extensions import db

    results: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(40)

    def fail_once(_: int) -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            counted = throttle.count({"login:racer:any": None, "login:racer@10.1.1.1": 1000}, lockout_s=60)
            db.session.commit()
            with lock:
                results.append(counted["login:racer:any"])

    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(fail_once, range(40)))
    assert sorted(results) == list(range(1, 41))
    with app.app_context():
        assert db.session.get(Throttle, "login:racer:any").failures == 40
        assert db.session.get(Throttle, "login:racer@10.1.1.1").failures == 40


@pytest.mark.slow
@pytest.mark.parametrize("door", ["login", "enroll"])
def test_forty_concurrent_wrong_attempts_on_a_live_server_count_forty(app, auth, factories, start_server, door):
    """Against ``python wsgi.py``: 40 concurrent wrong passwords (or enrollment codes), no 500, 40 counted."""
    from backend.auth.models import Throttle
    from backend.extensions import db

    server = start_server(LOGIN_MAX_FAILURES="1000", LOGIN_MAX_FAILURES_PER_ADDR="1000",
                          ENROLL_MAX_FAILURES="1000", ENROLL_MAX_FAILURES_PER_ADDR="1000")
    if door == "login":
        account = auth.user("dispatcher").username
        path, body = LOGIN, {"username": account, "password": "not-the-password"}
    else:
        account = factories.issued_card()["card_id"]
        path, body = "/api/v1/mobile/enroll", {"card_id": account, "enrollment_code": "ZZZZ-ZZZZ",
                                               "platform": "android"}
    barrier = threading.Barrier(40)

    def attempt(_: int) -> int:
        barrier.wait(timeout=30)
        return requests.post(server.url + path, json=body, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(attempt, range(40)))
    assert codes == [401] * 40
    with app.app_context():
        counts = {row.key: row.failures for row in db.session.query(Throttle)}
    assert counts == {f"{door}:{account.lower() if door == 'login' else account}:any": 40,
                      f"{door}:{account.lower() if door == 'login' else account}@127.0.0.1": 40,
                      f"{door}@127.0.0.1": 40}
