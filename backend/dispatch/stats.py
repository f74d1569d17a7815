"""Measured response: how fast the 191 center acknowledges, dispatches and resolves.

Over the incidents *created* in the window ``[since, until)``: counts by kind and by status,
and for each step the seconds from creation to the step's stamp (``acknowledged_at``,
``dispatched_at``, ``resolved_at``, set once by the workflow) of the incidents that reached it.
Percentiles are nearest-rank (the value of the ⌈p·n⌉-th fastest incident: always a time that
really happened, as response-time standards such as NENA's "90 % within 15 s" count them);
``null`` where no incident in the window reached the step.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from backend.dispatch.models import Incident
from backend.extensions import db

DEFAULT_WINDOW = timedelta(hours=24)
STEPS = (("time_to_acknowledge_s", "acknowledged_at"), ("time_to_dispatch_s", "dispatched_at"),
         ("time_to_resolve_s", "resolved_at"))


def nearest_rank(sorted_values: list[float], percent: float) -> float | None:
    """The nearest-rank percentile of already sorted values (None when there are none)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(values: list[float]) -> dict[str, float | None]:
    """p50, p90 and max of ``values`` in seconds (each None when there are none)."""
    ordered = sorted(values)
    return {"p50": nearest_rank(ordered, 50), "p90": nearest_rank(ordered, 90),
            "max": ordered[-1] if ordered else None}


def response_stats(*, since: datetime, until: datetime) -> dict[str, Any]:
    """The contract's stats over incidents created in ``[since, until)`` (one query)."""
    rows = db.session.execute(
        select(Incident.kind, Incident.status, Incident.created_at, Incident.acknowledged_at,
               Incident.dispatched_at, Incident.resolved_at)
        .where(Incident.created_at >= since, Incident.created_at < until)).all()
    by_kind: dict[str, int] = {}
    by_status: dict[str, int] = {}
    waits: dict[str, list[float]] = {name: [] for name, _ in STEPS}
    for row in rows:
        by_kind[row.kind] = by_kind.get(row.kind, 0) + 1
        by_status[row.status] = by_status.get(row.status, 0) + 1
        for name, column in STEPS:
            at = getattr(row, column)
            if at is not None:
                waits[name].append(max(0.0, (at - row.created_at).total_seconds()))
    return {
        "since": since, "until": until,
        "incidents": {"total": len(rows), "by_kind": by_kind, "by_status": by_status},
        **{name: summary(values) for name, values in waits.items()},
    }
