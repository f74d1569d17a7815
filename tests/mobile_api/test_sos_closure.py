"""A closed SOS tells the tourist how it ended: ``closed_at``, ``closed_by`` and ``resolution``."""

from __future__ import annotations

from backend.dispatch.models import Incident, IncidentStatus
from backend.extensions import db
from tests.mobile_api.test_sos import SOS, sos


def _transition(app, incident_id: int, *steps: tuple[IncidentStatus, dict]) -> None:  # noqa: ANN001
    from backend.dispatch.service import transition

    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        for to, kwargs in steps:
            transition(incident, to, **kwargs)
        db.session.commit()


def test_an_open_sos_has_no_closure(client, mobile):
    phone = mobile.enroll()
    incident_id = client.post(SOS, json=sos(), headers=phone.headers).get_json()["incident_id"]
    body = client.get(f"{SOS}/{incident_id}", headers=phone.headers).get_json()
    assert (body["closed_at"], body["closed_by"], body["resolution"]) == (None, None, None)


def test_resolved_by_the_191_center_says_so_without_the_staff_name(client, mobile, app):
    phone = mobile.enroll()
    incident_id = client.post(SOS, json=sos(), headers=phone.headers).get_json()["incident_id"]
    _transition(app, incident_id, (IncidentStatus.ACKNOWLEDGED, {"actor": "somchai"}),
                (IncidentStatus.RESOLVED, {"actor": "somchai", "resolution": "assisted on scene"}))
    response = client.get(f"{SOS}/{incident_id}", headers=phone.headers)
    body = response.get_json()
    assert body["status"] == "resolved" and body["closed_by"] == "dispatcher"
    assert body["resolution"] == "assisted on scene" and body["closed_at"]
    assert "somchai" not in response.get_data(as_text=True)
    with app.app_context():
        assert body["closed_at"] == db.session.get(Incident, incident_id).resolved_at.isoformat()


def test_cancelled_from_the_phone_is_closed_by_the_tourist(client, mobile):
    phone = mobile.enroll()
    incident_id = client.post(SOS, json=sos(), headers=phone.headers).get_json()["incident_id"]
    cancelled = client.post(f"{SOS}/{incident_id}/cancel", json={}, headers=phone.headers).get_json()
    assert cancelled["closed_by"] == "tourist" and cancelled["closed_at"]
    assert client.get(f"{SOS}/{incident_id}", headers=phone.headers).get_json()["closed_by"] == "tourist"


def test_cancelled_by_the_191_center_is_closed_by_a_dispatcher(client, mobile, app):
    phone = mobile.enroll()
    incident_id = client.post(SOS, json=sos(), headers=phone.headers).get_json()["incident_id"]
    _transition(app, incident_id, (IncidentStatus.CANCELLED, {"actor": "dispatcher1", "note": "duplicate"}))
    body = client.get(f"{SOS}/{incident_id}", headers=phone.headers).get_json()
    assert body["status"] == "cancelled" and body["closed_by"] == "dispatcher" and body["resolution"] is None


def test_another_cards_closed_sos_is_404(client, mobile, app):
    mine, theirs = mobile.enroll(), mobile.enroll()
    incident_id = client.post(SOS, json=sos(), headers=mine.headers).get_json()["incident_id"]
    _transition(app, incident_id, (IncidentStatus.RESOLVED, {"actor": "somchai", "resolution": "safe"}))
    response = client.get(f"{SOS}/{incident_id}", headers=theirs.headers)
    assert response.status_code == 404 and "safe" not in response.get_data(as_text=True)
