"""``flask simulate`` drives real phones' HTTP calls against a running server."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.dispatch.models import Incident
from backend.extensions import db
from backend.tracking.models import Device, Ping


def test_simulate_enrolls_tourists_that_ping_and_call_for_help(app, runner, live_server):
    with app.app_context():
        result = runner.invoke(args=["simulate", "--tourists", "4", "--base-url", live_server, "--duration", "4",
                                     "--interval", "0.5", "--sos-rate", "0.25", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "4 tourists enrolled" in result.output
    assert "errors 0" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Device)) == 4
        assert db.session.scalar(select(func.count()).select_from(Ping)) >= 4
        assert db.session.scalar(select(func.count()).select_from(Incident).where(Incident.kind == "sos")) >= 1


def test_simulate_explains_an_unreachable_server(app, runner):
    with app.app_context():
        result = runner.invoke(args=["simulate", "--tourists", "1", "--base-url", "http://127.0.0.1:9",
                                     "--duration", "1"])
    assert result.exit_code != 0
    assert "did not answer" in result.output
