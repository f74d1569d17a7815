"""Marine tourism safety: operators, boat trips with card-scanned manifests, overdue boats, sea stations.

The API (``/api/v1/marine``), the ``operators`` CLI, the periodic jobs (overdue boats, expired
warnings, manifest retention) and the hook that lets passengers' pings feed their trip.
The operator's page ``/marine`` lives in :mod:`backend.marine.pages`.
"""

import os

from flask import Flask

# settings of this domain, from the environment (defaults of the contract)
SETTINGS = {
    "BOAT_OVERDUE_GRACE_S": ("int", 1800),
    "MARINE_WARNING_WAVE_M": ("float", 2.5),
    "MARINE_WARNING_WIND_MPS": ("float", 13.9),  # Beaufort 7
    "MARINE_WARNING_TTL_S": ("int", 21600),
    "MARINE_WARNING_RADIUS_KM": ("float", 30.0),
    "MARINE_BOARD_MAX_FAILURES": ("int", 5),  # wrong card id + passport pairs before a (card, address) lock
}


def _setting(name: str, kind: str, default: float) -> float:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return int(value) if kind == "int" else float(value)


def init_app(app: Flask) -> None:
    """Register the marine API and its errors, the ``operators`` CLI, the periodic jobs and the ping hook."""
    from backend.cards.presented import CardRefused
    from backend.extensions import api
    from backend.marine import events, jobs, models  # noqa: F401  (register tables, jobs and emitters)
    from backend.marine.cli import operators_cli
    from backend.marine.conditions import DepartureHeld, OverrideForbidden
    from backend.marine.service import CapacityReached, TripConflict
    from backend.marine.views import blp, card_refused, departure_held
    from backend.web.transactions import answer, translate

    for name, (kind, default) in SETTINGS.items():
        app.config.setdefault(name, _setting(name, kind, default))
    api.security_scheme(
        "stationToken", {"type": "http", "scheme": "bearer",
                         "description": "A sea-condition station's token from POST /api/v1/marine/stations"})
    answer(app, CardRefused, card_refused, blueprint=blp)  # (a refused card's CardThrottled: cards.init_app)
    answer(app, DepartureHeld, departure_held, blueprint=blp)
    translate(app, OverrideForbidden, 403, blueprint=blp)
    translate(app, TripConflict, 409, blueprint=blp)
    translate(app, CapacityReached, 409, blueprint=blp)
    api.register_blueprint(blp)
    app.cli.add_command(operators_cli)
    events.register()
