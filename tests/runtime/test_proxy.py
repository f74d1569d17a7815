"""Behind nginx (TRUSTED_PROXY_HOPS=1) the client's own address counts; never without the setting."""

from __future__ import annotations

import pytest
from flask import request

pytestmark = pytest.mark.parametrize("database_url", ["spatialite"], indirect=True)


def _seen_address(app) -> str:  # noqa: ANN001
    app.add_url_rule("/_test/addr", "test_addr", lambda: {"addr": request.remote_addr, "scheme": request.scheme})
    response = app.test_client().get("/_test/addr", headers={"X-Forwarded-For": "203.0.113.7",
                                                             "X-Forwarded-Proto": "https"})
    return response.get_json()


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXY_HOPS": 1}])
def test_one_trusted_hop_takes_the_address_and_scheme_nginx_forwards(app):
    assert _seen_address(app) == {"addr": "203.0.113.7", "scheme": "https"}


def test_without_a_trusted_proxy_a_forwarded_header_is_ignored(app):
    assert _seen_address(app) == {"addr": "127.0.0.1", "scheme": "http"}
