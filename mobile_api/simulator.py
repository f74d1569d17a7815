"""``flask simulate``: tourists moving around Phuket with the companion app, for demos and load.

Cards are issued through the real cards service (in the database this command is pointed at:
use the server's ``DATABASE_URL``); every phone then talks to the server over HTTP only, like
a real one: it enrolls with the card id and code, walks, swims or sails along its route,
pings, buffers pings while out of signal on a boat trip and sends them as one batch when back
in range, and now and then presses SOS (and sometimes calls it off).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import click
import requests
from flask.cli import with_appcontext

log = logging.getLogger(__name__)

Point = tuple[float, float]  # (lat, lon)

# Routes (lat, lon), walked back and forth. Coordinates checked against geo/data/zones.geojson.
ROUTES: dict[str, list[Point]] = {
    # Patong: hotel, beach road, a swim into the rip-current zone, back to the beach
    "beach": [(7.8955, 98.2990), (7.8940, 98.3000), (7.8970, 98.2960), (7.8969, 98.2910), (7.8990, 98.2965)],
    # Kata and Karon beaches
    "kata": [(7.8205, 98.2990), (7.8240, 98.2975), (7.8466, 98.2966), (7.8300, 98.2950)],
    # Old Phuket Town: Thalang Road, Soi Romanee, the weekend market
    "town": [(7.8849, 98.3880), (7.8843, 98.3900), (7.8804, 98.3923), (7.8700, 98.3880)],
    # A boat trip from Chalong pier to Coral Island and Racha Yai (no signal far out) and back
    "boat": [(7.8215, 98.3420), (7.8000, 98.3650), (7.7550, 98.3720), (7.6050, 98.3650), (7.7550, 98.3720),
             (7.8000, 98.3650), (7.8215, 98.3420)],
}
SIGNAL_RANGE_DEG = 0.12  # about 13 km from the shore: beyond it the phone buffers
SHORE_POINTS: list[Point] = [(7.8215, 98.3420), (7.7800, 98.3100), (7.8900, 98.3000)]
NAMES = [("Anna Schmidt", "DEU", "de"), ("Liam Smith", "GBR", "en"), ("Olga Ivanova", "RUS", "ru"),
         ("Wei Zhang", "CHN", "zh"), ("Yuki Tanaka", "JPN", "en"), ("Chloé Martin", "FRA", "en"),
         ("Noah Johnson", "USA", "en"), ("Priya Sharma", "IND", "en"), ("Somchai Jaidee", "THA", "th"),
         ("Lucas Silva", "BRA", "en"), ("Emma Nilsson", "SWE", "en"), ("Mateo García", "ESP", "en")]
SOS_CATEGORIES = ["medical", "marine", "lost", "crime", "other"]


@dataclass
class Tourist:
    """One simulated phone: its credentials, its route and where it is along it."""

    card_id: str
    route_name: str
    route: list[Point]
    pace: float  # route legs per simulated second
    headers: dict[str, str] = field(default_factory=dict)
    progress: float = 0.0
    buffer: list[dict] = field(default_factory=list)
    open_sos: int | None = None

    def position(self) -> Point:
        """Where the tourist is now (back and forth along the route)."""
        legs = len(self.route) - 1
        cycle = self.progress % (2 * legs)
        at = cycle if cycle <= legs else 2 * legs - cycle
        i = min(int(at), legs - 1)
        frac = at - i
        (a_lat, a_lon), (b_lat, b_lon) = self.route[i], self.route[i + 1]
        return a_lat + (b_lat - a_lat) * frac, a_lon + (b_lon - a_lon) * frac

    def has_signal(self) -> bool:
        """False far out at sea on the boat trip."""
        lat, lon = self.position()
        return min(math.hypot(lat - s_lat, lon - s_lon) for s_lat, s_lon in SHORE_POINTS) < SIGNAL_RANGE_DEG


@dataclass
class Stats:
    """What the simulation did (shared by worker threads)."""

    pings: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    sos: int = 0
    cancelled: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        """Add to the counters."""
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def line(self) -> str:
        """A one-line summary."""
        return (f"pings {self.pings} (accepted {self.accepted}, duplicates {self.duplicates}, rejected "
                f"{self.rejected}) in {self.batches} requests; SOS {self.sos} (cancelled {self.cancelled}); "
                f"errors {self.errors}")


def issue_cards(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """Issue ``count`` cards through the cards service; returns (card_id, enrollment_code) pairs."""
    from backend.cards.service import issue_card
    from backend.extensions import db

    issued = []
    for _ in range(count):
        name, nationality, language = rng.choice(NAMES)
        card = issue_card(full_name=name, nationality=nationality,
                          passport_number=f"SIM{rng.randrange(10**8):08d}", checkpoint=rng.choice(
                              ["HKT", "HKT", "HKT", "THA_CHATCHAI", "RASSADA"]),
                          stay_until=date.today() + timedelta(days=rng.randint(3, 21)), issued_by=None,
                          language=language, phone=f"+66 8{rng.randrange(10**8):08d}")
        issued.append((card.card.id, card.enrollment_code))
    db.session.commit()
    return issued


def enroll(session: requests.Session, base_url: str, card_id: str, code: str, rng: random.Random) -> Tourist:
    """Enroll a phone over HTTP and give it a route."""
    response = session.post(f"{base_url}/api/v1/mobile/enroll", timeout=30, json={
        "card_id": card_id, "enrollment_code": code, "platform": rng.choice(["android", "ios"])})
    response.raise_for_status()
    route_name = rng.choices(list(ROUTES), weights=[4, 3, 3, 2])[0]
    pace = 0.06 if route_name == "boat" else 0.012  # time runs ~100x faster than real for a lively demo
    tourist = Tourist(card_id=card_id, route_name=route_name, route=ROUTES[route_name], pace=pace,
                      progress=rng.uniform(0, len(ROUTES[route_name]) - 1))
    tourist.headers = {"Authorization": f"Bearer {response.json()['device_token']}"}
    return tourist


def step(session: requests.Session, base_url: str, tourist: Tourist, elapsed_s: float, rng: random.Random,
         sos_rate: float, stats: Stats) -> None:
    """Move one tourist, ping (or buffer), and maybe press or cancel SOS."""
    tourist.progress += tourist.pace * elapsed_s
    lat, lon = tourist.position()
    now = datetime.now(UTC)
    tourist.buffer.append({"id": str(uuid.uuid4()), "lat": round(lat + rng.gauss(0, 0.00005), 6),
                           "lon": round(lon + rng.gauss(0, 0.00005), 6), "recorded_at": now.isoformat(),
                           "accuracy_m": round(rng.uniform(4, 30), 1), "battery_pct": rng.randint(15, 100)})
    try:
        if tourist.has_signal():
            batch, tourist.buffer = tourist.buffer[-500:], []
            response = session.post(f"{base_url}/api/v1/mobile/pings", json={"pings": batch},
                                    headers=tourist.headers, timeout=30)
            if response.status_code == 200:
                body = response.json()
                stats.add(pings=len(batch), batches=1, accepted=body["accepted"], duplicates=body["duplicates"],
                          rejected=len(body["rejected"]))
            else:
                stats.add(errors=1)
        if tourist.open_sos is None and rng.random() < sos_rate:
            sos = {"id": str(uuid.uuid4()), "lat": round(lat, 6), "lon": round(lon, 6),
                   "recorded_at": now.isoformat(), "accuracy_m": 10.0,
                   "category": "marine" if tourist.route_name == "boat" else rng.choice(SOS_CATEGORIES),
                   "note": "simulated SOS"}
            response = session.post(f"{base_url}/api/v1/mobile/sos", json=sos, headers=tourist.headers, timeout=30)
            if response.status_code in (200, 201):
                tourist.open_sos = response.json()["incident_id"]
                stats.add(sos=1)
            else:
                stats.add(errors=1)
        elif tourist.open_sos is not None and rng.random() < 0.05:
            response = session.post(f"{base_url}/api/v1/mobile/sos/{tourist.open_sos}/cancel",
                                    json={"reason": "false alarm (simulation)"}, headers=tourist.headers, timeout=30)
            if response.status_code in (200, 409):
                stats.add(cancelled=int(response.status_code == 200))
                tourist.open_sos = None
    except requests.RequestException:
        stats.add(errors=1)


def wait_for(base_url: str, timeout_s: float) -> None:
    """Wait until the server's /healthz answers 200."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise click.ClickException(f"{base_url} did not answer /healthz within {timeout_s:.0f} s")
        time.sleep(0.5)


def run(*, base_url: str, tourists: int, duration_s: float, interval_s: float, sos_rate: float,
        seed: int | None, echo=click.echo) -> Stats:  # noqa: ANN001
    """Issue cards, enroll the phones over HTTP and simulate them until ``duration_s`` (0 = forever)."""
    rng = random.Random(seed)
    base_url = base_url.rstrip("/")
    cards = issue_cards(tourists, rng)
    session = requests.Session()
    phones = [enroll(session, base_url, card_id, code, rng) for card_id, code in cards]
    routes = {name: sum(p.route_name == name for p in phones) for name in ROUTES}
    echo(f"{len(phones)} tourists enrolled at {base_url}: " + ", ".join(f"{n} {k}" for k, n in routes.items()))
    stats = Stats()
    started = last_report = time.monotonic()
    workers = max(1, min(16, tourists))
    local = threading.local()

    def worker_session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    with ThreadPoolExecutor(max_workers=workers) as pool:
        while duration_s <= 0 or time.monotonic() - started < duration_s:
            tick = time.monotonic()
            seeds = [rng.random() for _ in phones]
            list(pool.map(lambda pair: step(worker_session(), base_url, pair[0], interval_s,
                                            random.Random(pair[1]), sos_rate, stats), zip(phones, seeds,
                                                                                           strict=True)))
            if time.monotonic() - last_report >= 10:
                echo(stats.line())
                last_report = time.monotonic()
            time.sleep(max(0.0, interval_s - (time.monotonic() - tick)))
    echo(stats.line())
    return stats


@click.command("simulate")
@click.option("--tourists", "-n", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
              help="The server (it must use the same database as this command).")
@click.option("--duration", type=click.FloatRange(0), default=0, show_default=True, help="Seconds; 0 = until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(0.05), default=10, show_default=True,
              help="Seconds between two pings of one phone (the real app waits 30 minutes).")
@click.option("--sos-rate", type=click.FloatRange(0, 1), default=0.002, show_default=True,
              help="Chance that a phone presses SOS at a ping.")
@click.option("--seed", type=int, default=None, help="Random seed, for a repeatable run.")
@click.option("--wait", type=click.FloatRange(0), default=0, help="Seconds to wait for the server to come up.")
@with_appcontext
def simulate_command(tourists: int, base_url: str, duration: float, interval: float, sos_rate: float,
                     seed: int | None, wait: float) -> None:
    """Simulate N tourists with the companion app: enroll, move (beach, town, boat trip), ping, SOS."""
    if wait:
        wait_for(base_url.rstrip("/"), wait)
    try:
        run(base_url=base_url, tourists=tourists, duration_s=duration, interval_s=interval, sos_rate=sos_rate,
            seed=seed)
    except KeyboardInterrupt:
        click.echo("stopped")
    except requests.RequestException as exc:
        raise click.ClickException(f"the server did not answer as expected: {exc}") from exc
