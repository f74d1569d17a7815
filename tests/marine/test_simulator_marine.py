"""``flask demo`` creates the demo boat operator, and ``flask simulate --marine`` plays the marine
scenario against a real server: two boat trips, a late boat, a passenger left on Phi Phi, a red flag."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

pytestmark = pytest.mark.slow


def test_demo_creates_the_boat_operator_and_its_account_once(app, runner):
    from backend.auth.models import User
    from backend.extensions import db
    from backend.marine.models import Operator

    with app.app_context():
        for _ in range(2):  # idempotent
            result = runner.invoke(args=["demo"])
            assert result.exit_code == 0, result.output
        assert "boats" in result.output and "marine_operator" in result.output
        operators = db.session.scalars(select(Operator)).all()
        assert [o.name for o in operators] == ["Andaman Sea Tours (demo)"]
        boats = db.session.scalar(select(User).where(User.username == "boats"))
        assert boats.role == "marine_operator" and boats.operator_id == operators[0].id


def test_the_marine_scenario_shows_trips_a_late_boat_a_missing_passenger_and_a_warning(app, runner, start_server):
    from backend.cards.models import Card, Tourist
    from backend.dispatch.models import Incident
    from backend.extensions import db
    from backend.marine.models import MarineWarning, Trip

    with app.app_context():
        assert runner.invoke(args=["seed"]).exit_code == 0
        assert runner.invoke(args=["demo"]).exit_code == 0
    # the server's own sweep finds the late boat while it is still out
    server = start_server(RUN_PERIODIC_JOBS="1", SWEEP_INTERVAL_S="1")
    with app.app_context():
        result = runner.invoke(args=["simulate", "--tourists", "1", "--base-url", server.url, "--interval", "0.4",
                                     "--duration", "180", "--seed", "3", "--marine", "--stop-after-marine"])
    assert result.exit_code == 0, result.output
    assert "errors 0" in result.output, result.output
    assert "marine: Andaman Explorer left RASSADA for Koh Phi Phi (Tonsai) with 4 passengers" in result.output
    assert "marine: Kata Beach: red flag" in result.output
    assert "not scanned ashore: James Wilson" in result.output

    with app.app_context():
        trips = {t.vessel_name: t for t in db.session.scalars(select(Trip))}
        assert set(trips) == {"Andaman Explorer", "Racha Sea Star"}
        assert all(t.status == "returned" and t.last_lat is not None for t in trips.values())
        # the passengers' pings fed the boats from the sea (Racha Yai lies south of Chalong)
        assert trips["Racha Sea Star"].last_lat < 7.80 or trips["Racha Sea Star"].last_lon > 98.34
        incidents = db.session.execute(select(Incident.kind, Tourist.full_name, Incident.trip_id)
                                       .outerjoin(Card, Card.id == Incident.card_id)  # boat_overdue: no card
                                       .outerjoin(Tourist, Tourist.id == Card.tourist_id)).all()
        kinds = [(kind, trip_id) for kind, _, trip_id in incidents]
        assert ("boat_overdue", trips["Racha Sea Star"].id) in kinds
        assert ("boat_overdue", trips["Andaman Explorer"].id) not in kinds
        unaccounted = [(name, trip_id) for kind, name, trip_id in incidents if kind == "passenger_unaccounted"]
        assert unaccounted == [("James Wilson", trips["Andaman Explorer"].id)]
        warnings = db.session.scalars(select(MarineWarning)).all()
        assert len(warnings) == 1 and warnings[0].ended_at is not None  # red, then calm again
    stations = requests.get(f"{server.url}/api/v1/marine/conditions", timeout=10).json()["stations"]
    assert [(s["flag"], s["warning"]) for s in stations] == [("green", None)]
