"""A console's socket lasts only while its account and token have the right to it, in every process.

Two ``python wsgi.py`` servers on one PostGIS database and no message queue at all: the account
is deactivated through the other server's API, or with the CLI in this test's own process, and
the socket open on the first server is closed within 10 s; a token that expires does the same.
"""

from __future__ import annotations

import queue
import time

import pytest
import requests
import socketio

from backend.auth.tokens import TokenKind, encode
from tests.dispatch.conftest import bearer

pytestmark = pytest.mark.slow

BOUND_S = 10.0  # the contract: within 10 s


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """Several server processes on one database: PostGIS."""
    return postgres_url


def _disconnected_within(console, seconds: float) -> float:  # noqa: ANN001
    """How long until the server closed ``console``'s socket (fails after ``seconds``)."""
    started = time.monotonic()
    try:
        console.disconnects.get(timeout=seconds)
    except queue.Empty:
        raise AssertionError(f"the socket was still open after {seconds} s") from None
    assert not console.client.connected
    return time.monotonic() - started


def _login(server, username: str, password: str = "correct horse battery") -> str:  # noqa: ANN001
    response = requests.post(f"{server.url}/api/v1/auth/login", json={"username": username, "password": password},
                             timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_deactivating_an_account_in_one_process_closes_its_socket_in_another(auth, factories, start_server,
                                                                             consoles):
    server_a, server_b = start_server("a"), start_server("b")
    dispatcher = auth.user("dispatcher", username="night-shift")
    token = _login(server_a, "night-shift")
    colleague_token = auth.token("dispatcher")
    console = consoles(server_a.url, token).connect()
    colleague = consoles(server_a.url, colleague_token).connect()
    console.hello.get(timeout=5)
    assert console.call("viewport", {"bbox": "98.25,7.75,98.45,8.2"})["ok"] is True

    admin = bearer(auth.token("admin"))
    response = requests.post(f"{server_b.url}/api/v1/users/{dispatcher.id}/deactivate", headers=admin, timeout=10)
    assert response.status_code == 200 and response.json()["active"] is False
    for server in (server_a, server_b):  # refused at once, everywhere
        assert requests.get(f"{server.url}/api/v1/auth/me", headers=bearer(token), timeout=10).status_code == 401
    _disconnected_within(console, BOUND_S)

    # what is raised afterwards reaches the colleague, not the deactivated account; it cannot come back
    card_id = factories.card(full_name="Private Person", phone="+66 81 000 0000")
    sos = requests.post(f"{server_b.url}/api/v1/dispatch/incidents", headers=bearer(colleague_token), timeout=10,
                        json={"card_id": card_id, "kind": "sos", "lat": 7.89, "lon": 98.29})
    assert sos.status_code == 201
    assert colleague.next_incident(timeout=5)["id"] == sos.json()["id"]
    assert colleague.client.connected
    with pytest.raises(socketio.exceptions.ConnectionError):
        consoles(server_a.url, token).connect()


def test_the_cli_deactivation_closes_the_accounts_sockets_on_every_server(app, runner, auth, start_server, consoles):
    server_a, server_b = start_server("a"), start_server("b")
    auth.user("admin", username="duty-admin")  # an admin may watch the console too
    token = _login(server_b, "duty-admin")
    on_a = consoles(server_a.url, token).connect()
    on_b = consoles(server_b.url, token).connect()
    on_a.hello.get(timeout=5)
    on_b.hello.get(timeout=5)

    result = runner.invoke(args=["users", "deactivate", "duty-admin"])  # this process serves nobody
    assert result.exit_code == 0, result.output
    _disconnected_within(on_a, BOUND_S)
    _disconnected_within(on_b, BOUND_S)

    # activated again: the old token stays revoked, a new sign-in connects
    assert runner.invoke(args=["users", "activate", "duty-admin"]).exit_code == 0
    with pytest.raises(socketio.exceptions.ConnectionError):
        consoles(server_a.url, token).connect()
    consoles(server_a.url, _login(server_a, "duty-admin")).connect().hello.get(timeout=5)


def test_an_account_that_is_no_longer_a_dispatchers_loses_its_socket(runner, auth, start_server, consoles):
    server = start_server()
    auth.user("dispatcher", username="moved-on")
    console = consoles(server.url, _login(server, "moved-on")).connect()
    console.hello.get(timeout=5)
    result = runner.invoke(args=["users", "create", "moved-on", "--role", "immigration", "--password",
                                 "checkpoint duty 2026"])
    assert result.exit_code == 0, result.output
    _disconnected_within(console, BOUND_S)


def test_a_socket_whose_token_expires_is_closed(app, auth, start_server, consoles):
    server = start_server()
    dispatcher = auth.user("dispatcher")
    minted = time.monotonic()  # the token's clock starts here, not when the (maybe slow) connect ends
    with app.app_context():
        token = encode(TokenKind.STAFF_ACCESS, str(dispatcher.id), ttl_s=3, claims={"role": "dispatcher", "ver": 0})
    console = consoles(server.url, token).connect()
    console.hello.get(timeout=5)
    _disconnected_within(console, 3 + BOUND_S)
    # not closed before it expired: `exp` is in whole seconds, so it may fall up to 1 s before minted + 3
    assert time.monotonic() >= minted + 3 - 1.5
    assert requests.get(f"{server.url}/api/v1/auth/me", headers=bearer(token), timeout=10).status_code == 401


@pytest.mark.browser
def test_the_console_of_a_deactivated_dispatcher_goes_back_to_the_sign_in_form(auth, start_server):
    from playwright.sync_api import expect

    from tests.browser import shared_playwright
    from tests.dispatch.test_console_browser import CHROMIUM_ARGS

    console_server, other = start_server("console"), start_server("other")
    dispatcher = auth.user("dispatcher", username="malee", password="191-phuket-safe")
    admin = bearer(auth.token("admin"))
    with shared_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{console_server.url}/console")
        page.fill("#username", "malee")
        page.fill("#password", "191-phuket-safe")
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#conn")).to_contain_text("Live", timeout=15_000)

        response = requests.post(f"{other.url}/api/v1/users/{dispatcher.id}/deactivate", headers=admin, timeout=10)
        assert response.status_code == 200
        expect(page.locator("#signin")).to_be_visible(timeout=BOUND_S * 1000)
        expect(page.locator("#signin-error")).not_to_be_empty()
        assert page.evaluate("window.ptsConsole.state.token") is None
        assert page.evaluate("sessionStorage.getItem('pts.console.token')") is None
        browser.close()
