"""Words every domain shares: how urgent something is and what an SOS is about.

Part of backend's shared core (with extensions, base types, database and geometry): any domain
may import it and it imports no domain, so a vocabulary never drags a cycle between two domains
(``geo`` rates a zone with the same :class:`Severity` the 191 center sorts incidents by).
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How urgent an incident (or the danger of a zone) is."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class SosCategory(StrEnum):
    """What an SOS is about: the app's button, the protocol adapters, a 191 call, the simulator."""

    MEDICAL = "medical"
    CRIME = "crime"
    MARINE = "marine"
    LOST = "lost"
    OTHER = "other"

