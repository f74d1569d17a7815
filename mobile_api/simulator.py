"""``flask simulate``: tourists moving around Phuket with the companion app, for demos and load.

Cards are issued through the real cards service (in the database this command is pointed at:
use the server's ``DATABASE_URL``); every phone then talks to the server over HTTP only, like
a real one: it enrolls with the card id and code, walks, swims or sails along its route,
pings, buffers pings while out of signal on a boat trip and sends them as one batch when back
in range, and now and then presses SOS (and sometimes calls it off).

``--marine`` adds the marine scenario (:class:`MarineScenario`), played once through the API as a
boat operator, an admin and a sea station would: two boat trips with card-scanned manifests (Phi
Phi from Rassada, Racha from Chalong) whose passengers ping from the sea, the Racha boat back late
(``boat_overdue``), one passenger who stays on Phi Phi (``passenger_unaccounted`` when the boat
returns without them), and a beach station whose red flag raises a ``marine_warning``.
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

from backend.vocab import SosCategory

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
                   "category": "marine" if tourist.route_name == "boat" else rng.choice(tuple(SosCategory)),
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


# --- the marine scenario -----------------------------------------------------------------------
# Piers and islands (lat, lon); the routes keep to open water between them.
RASSADA_PIER: Point = (7.8566, 98.4020)
CHALONG_PIER: Point = (7.8215, 98.3420)
PHI_PHI_TONSAI: Point = (7.7395, 98.7700)
RACHA_YAI: Point = (7.6050, 98.3650)
TO_PHI_PHI: list[Point] = [RASSADA_PIER, (7.8400, 98.4350), (7.8050, 98.5300), (7.7700, 98.6500), PHI_PHI_TONSAI]
TO_RACHA: list[Point] = [CHALONG_PIER, (7.8000, 98.3650), (7.7550, 98.3720), (7.6700, 98.3700), RACHA_YAI]
KATA_STATION = {"name": "Kata Beach lifeguard tower", "lat": 7.8206, "lon": 98.2960, "zone": "Kata Beach"}
MARINE_PASSENGERS = [("Sophie Müller", "DEU", "de"), ("James Wilson", "GBR", "en"), ("Ivan Petrov", "RUS", "ru"),
                     ("Li Na", "CHN", "zh"), ("Kim Min-jun", "KOR", "en"), ("Aiko Sato", "JPN", "en"),
                     ("Lucas Dubois", "FRA", "en")]
# the scenario's timeline, in simulation steps (one step = one --interval)
OUT_STEPS, STAY_STEPS = 6, 3                 # Phi Phi: out, on the island, back
PHI_PHI_BACK_AT = 2 * OUT_STEPS + STAY_STEPS  # the Phi Phi boat is at Rassada again
RACHA_LATE_BY_STEPS = 3                       # the Racha boat is overdue this many steps after the start
RACHA_BACK_AT = 26                            # … and comes back (late) at this step
YELLOW_AT, RED_AT, CALM_AT = 4, 8, 28         # the station's flag through the scenario
MARINE_END = 30


def along(route: list[Point], fraction: float) -> Point:
    """The point ``fraction`` (0–1) of the way along ``route``, by legs."""
    fraction = min(max(fraction, 0.0), 1.0)
    legs = len(route) - 1
    at = fraction * legs
    i = min(int(at), legs - 1)
    frac = at - i
    (a_lat, a_lon), (b_lat, b_lon) = route[i], route[i + 1]
    return a_lat + (b_lat - a_lat) * frac, a_lon + (b_lon - a_lon) * frac


@dataclass
class Passenger:
    """A simulated passenger's phone and card (the operator scans the card's QR at the pier)."""

    card_id: str
    card_token: str
    passport_number: str
    full_name: str
    headers: dict[str, str] = field(default_factory=dict)
    stays_on_island: bool = False


@dataclass
class BoatTrip:
    """One boat trip of the scenario: its route out and its passengers."""

    name: str
    route: list[Point]
    passengers: list[Passenger]
    trip_id: int | None = None
    returned: bool = False


class MarineScenario:
    """The marine demo, played once through the API as an operator, an admin and a station would.

    Step 0 registers a sea station and the two trips, scans the passengers aboard (QR code, and one
    by card id + passport number) and sends both boats out; every later step moves the boats and
    the passengers' phones ping from them. The Phi Phi boat is back at Rassada at
    ``PHI_PHI_BACK_AT`` without one passenger, who stays on the island; the Racha boat was
    registered with a return time that, with the server's ``BOAT_OVERDUE_GRACE_S``, is passed
    ``RACHA_LATE_BY_STEPS`` steps in, and it comes back only at ``RACHA_BACK_AT``. The station's
    beach flag turns yellow, then red (a marine warning), and calm again at the end.
    """

    def __init__(self, *, base_url: str, session: requests.Session, rng: random.Random, interval_s: float,
                 operator_user: str, admin_user: str, password: str, overdue_grace_s: float,
                 echo=click.echo) -> None:  # noqa: ANN001
        self.base_url = base_url
        self.session = session
        self.rng = rng
        self.interval_s = interval_s
        self.echo = echo
        self.grace_s = overdue_grace_s
        self.operator = self._login(operator_user, password)
        self.admin = self._login(admin_user, password)
        self.station_token: str | None = None
        self.steps = 0
        self.events: list[str] = []
        cards = issue_marine_cards(rng)
        people = [self._enroll(card) for card in cards]
        people[1].stays_on_island = True
        self.trips = [BoatTrip("Phi Phi", TO_PHI_PHI, people[:4]), BoatTrip("Racha", TO_RACHA, people[4:])]

    # -- HTTP -------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, headers: dict[str, str], json: dict | None = None,
              ok: tuple[int, ...] = (200, 201)) -> requests.Response:
        response = self.session.request(method, f"{self.base_url}{path}", headers=headers, json=json, timeout=30)
        if response.status_code not in ok:
            raise click.ClickException(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response

    def _login(self, username: str, password: str) -> dict[str, str]:
        response = self.session.post(f"{self.base_url}/api/v1/auth/login", timeout=30,
                                     json={"username": username, "password": password})
        if response.status_code != 200:
            raise click.ClickException(f"the marine scenario needs the demo account {username!r} (flask demo): "
                                       f"sign-in answered {response.status_code}")
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def _enroll(self, card: dict[str, str]) -> Passenger:
        response = self._call("POST", "/api/v1/mobile/enroll", headers={}, json={
            "card_id": card["card_id"], "enrollment_code": card["enrollment_code"],
            "platform": self.rng.choice(["android", "ios"])})
        return Passenger(card_id=card["card_id"], card_token=card["card_token"], full_name=card["full_name"],
                         passport_number=card["passport_number"],
                         headers={"Authorization": f"Bearer {response.json()['device_token']}"})

    def say(self, text: str) -> None:
        """Report a scenario event (and keep it for the summary)."""
        self.events.append(text)
        self.echo(f"marine: {text}")

    # -- the timeline -----------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """True once the whole scenario has played."""
        return self.steps > MARINE_END

    def step(self) -> None:
        """Play the next step of the scenario."""
        if self.done:
            return
        n = self.steps
        self.steps += 1
        if n == 0:
            self.setup()
        phi_phi, racha = self.trips
        if n == YELLOW_AT:
            self.observe(flag="yellow", wave_height_m=1.4, wind_speed_mps=8.5, gust_mps=11.0)
        if n == RED_AT:
            self.observe(flag="red", wave_height_m=2.9, wind_speed_mps=15.2, gust_mps=19.0)
            self.say("Kata Beach: red flag, 2.9 m waves — a marine warning for the dispatchers")
        if n == CALM_AT:
            self.observe(flag="green", wave_height_m=0.6, wind_speed_mps=4.0, gust_mps=6.0)
            self.say("Kata Beach: calm again (green flag)")
        if not phi_phi.returned:
            self.ping_phi_phi(phi_phi, n)
        else:  # the one who stayed behind is still on Phi Phi, and their phone says so
            for person in phi_phi.passengers:
                if person.stays_on_island:
                    self.ping(person, (PHI_PHI_TONSAI[0] + 0.0030, PHI_PHI_TONSAI[1] - 0.0040))
        if not racha.returned:
            self.ping_racha(racha, n)
        if n == PHI_PHI_BACK_AT:
            self.come_back(phi_phi)
        if n == RACHA_BACK_AT:
            self.come_back(racha)

    def setup(self) -> None:
        """Register the station and the two trips, board the passengers, send the boats out."""
        zone_id = None
        zones = self.session.get(f"{self.base_url}/api/v1/zones", timeout=30)
        if zones.status_code == 200:
            zone_id = next((f["properties"].get("id") for f in zones.json().get("features", [])
                            if str(f["properties"].get("name", "")).startswith(KATA_STATION["zone"])), None)
        body = {"name": f"{KATA_STATION['name']} (simulation {datetime.now(UTC):%H:%M:%S})",
                "lat": KATA_STATION["lat"], "lon": KATA_STATION["lon"]}
        if zone_id is not None:
            body["zone_id"] = zone_id
        self.station_token = self._call("POST", "/api/v1/marine/stations", headers=self.admin,
                                        json=body).json()["station_token"]
        self.observe(flag="green", wave_height_m=0.8, wind_speed_mps=5.0, gust_mps=7.5)
        now = datetime.now(UTC).replace(microsecond=0)
        phi_phi, racha = self.trips
        # Phi Phi: a day trip; Racha: registered late at the pier, its return time (plus the grace the
        # server allows) passes a few steps into the scenario — the boat will not be back by then
        late_at = now + timedelta(seconds=RACHA_LATE_BY_STEPS * self.interval_s - self.grace_s)
        plans = [
            (phi_phi, {"vessel_name": "Andaman Explorer", "vessel_registration": "PKT-1234-S", "pier": "RASSADA",
                       "destination": "Koh Phi Phi (Tonsai)", "departs_at": now.isoformat(),
                       "returns_by": (now + timedelta(hours=8)).isoformat(), "capacity": 40,
                       "crew_phone": "+66 81 234 5678"}),
            (racha, {"vessel_name": "Racha Sea Star", "vessel_registration": "PKT-5678-S", "pier": "AO_CHALONG",
                     "destination": "Koh Racha Yai", "departs_at": (late_at - timedelta(hours=5)).isoformat(),
                     "returns_by": late_at.isoformat(), "capacity": 12, "crew_phone": "+66 89 876 5432"}),
        ]
        for trip, plan in plans:
            trip.trip_id = self._call("POST", "/api/v1/marine/trips", headers=self.operator, json=plan).json()["id"]
            for i, person in enumerate(trip.passengers):
                scan = ({"card_id": person.card_id, "passport_number": person.passport_number} if i == 0
                        else {"card_token": person.card_token})
                self._call("POST", f"/api/v1/marine/trips/{trip.trip_id}/passengers", headers=self.operator,
                           json=scan)
            self.depart(trip)
            self.say(f"{plan['vessel_name']} left {plan['pier']} for {plan['destination']} with "
                     f"{len(trip.passengers)} passengers (trip {trip.trip_id})")

    def depart(self, trip: BoatTrip) -> None:
        """Send a boat out; a departure held by a marine warning is overridden by the demo admin."""
        path = f"/api/v1/marine/trips/{trip.trip_id}/depart"
        response = self._call("POST", path, headers=self.operator, json={}, ok=(200, 409))
        if response.status_code == 409:
            self.say(f"departure held: {response.json().get('message')} — the demo admin overrides it")
            self._call("POST", path, headers=self.admin, json={"override_reason": "simulation: demo trip"})

    def observe(self, **reading: float | str) -> None:
        """The station posts an observation."""
        self._call("POST", "/api/v1/marine/observations", headers={"Authorization": f"Bearer {self.station_token}"},
                   json={"observed_at": datetime.now(UTC).isoformat(), **reading})

    def ping_phi_phi(self, trip: BoatTrip, n: int) -> None:
        """Out to Phi Phi, a stay on the island, back to Rassada; one passenger stays on the island."""
        if n <= OUT_STEPS:
            boat = along(trip.route, n / OUT_STEPS)
        elif n <= OUT_STEPS + STAY_STEPS:
            boat = trip.route[-1]
        else:
            boat = along(trip.route[::-1], (n - OUT_STEPS - STAY_STEPS) / OUT_STEPS)
        for person in trip.passengers:
            island = person.stays_on_island and n > OUT_STEPS
            self.ping(person, (PHI_PHI_TONSAI[0] + 0.0030, PHI_PHI_TONSAI[1] - 0.0040) if island else boat)

    def ping_racha(self, trip: BoatTrip, n: int) -> None:
        """Out to Racha Yai and around it until the (late) way back to Chalong."""
        out = 5
        if n <= out:
            boat = along(trip.route, n / out)
        elif n < RACHA_BACK_AT - out:
            angle = (n - out) * 0.7
            boat = (RACHA_YAI[0] + 0.012 * math.sin(angle), RACHA_YAI[1] + 0.012 * math.cos(angle))
        else:
            boat = along(trip.route[::-1], (n - RACHA_BACK_AT + out) / out)
        for person in trip.passengers:
            self.ping(person, boat)

    def ping(self, person: Passenger, at: Point) -> None:
        """One ping of a passenger's phone."""
        lat, lon = at
        self._call("POST", "/api/v1/mobile/pings", headers=person.headers, json={"pings": [{
            "id": str(uuid.uuid4()), "lat": round(lat + self.rng.gauss(0, 0.0002), 6),
            "lon": round(lon + self.rng.gauss(0, 0.0002), 6), "recorded_at": datetime.now(UTC).isoformat(),
            "accuracy_m": round(self.rng.uniform(5, 40), 1), "battery_pct": self.rng.randint(20, 95)}]})

    def come_back(self, trip: BoatTrip) -> None:
        """The boat is at the pier: the passengers who are aboard are scanned ashore, then the return."""
        for person in trip.passengers:
            if not person.stays_on_island:
                self._call("POST", f"/api/v1/marine/trips/{trip.trip_id}/passengers/{person.card_id}/ashore",
                           headers=self.operator, json={})
        self._call("POST", f"/api/v1/marine/trips/{trip.trip_id}/return", headers=self.operator, json={})
        trip.returned = True
        missing = [p.full_name for p in trip.passengers if p.stays_on_island]
        self.say(f"the {trip.name} boat is back (trip {trip.trip_id})" +
                 (f"; not scanned ashore: {', '.join(missing)}" if missing else ""))


def issue_marine_cards(rng: random.Random) -> list[dict[str, str]]:
    """Issue the scenario's passengers' cards (issued at Rassada and the airport)."""
    from backend.cards.service import issue_card
    from backend.extensions import db

    cards = []
    for name, nationality, language in MARINE_PASSENGERS:
        passport = f"SIM{rng.randrange(10**8):08d}"
        issued = issue_card(full_name=name, nationality=nationality, passport_number=passport,
                            checkpoint=rng.choice(["HKT", "RASSADA"]), issued_by=None, language=language,
                            stay_until=date.today() + timedelta(days=rng.randint(3, 14)),
                            phone=f"+66 9{rng.randrange(10**8):08d}")
        cards.append({"card_id": issued.card.id, "card_token": issued.card_token, "full_name": name,
                      "enrollment_code": issued.enrollment_code, "passport_number": passport})
    db.session.commit()
    return cards


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
        seed: int | None, marine: dict | None = None, stop_after_marine: bool = False,
        echo=click.echo) -> Stats:  # noqa: ANN001
    """Issue cards, enroll the phones over HTTP and simulate them until ``duration_s`` (0 = forever).

    ``marine`` (``{operator_user, admin_user, password, overdue_grace_s}``) also plays the marine
    scenario once, one step per interval; ``stop_after_marine`` ends the run when it has played.
    """
    rng = random.Random(seed)
    base_url = base_url.rstrip("/")
    cards = issue_cards(tourists, rng)
    session = requests.Session()
    phones = [enroll(session, base_url, card_id, code, rng) for card_id, code in cards]
    routes = {name: sum(p.route_name == name for p in phones) for name in ROUTES}
    echo(f"{len(phones)} tourists enrolled at {base_url}: " + ", ".join(f"{n} {k}" for k, n in routes.items()))
    scenario = None
    if marine is not None:
        scenario = MarineScenario(base_url=base_url, session=requests.Session(), rng=random.Random(rng.random()),
                                  interval_s=interval_s, echo=echo, **marine)
        echo(f"marine scenario: {sum(len(t.passengers) for t in scenario.trips)} passengers on 2 boat trips")
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
            if scenario is not None and not scenario.done:
                try:
                    scenario.step()
                except (click.ClickException, requests.RequestException) as exc:
                    echo(f"marine scenario stopped: {exc}")
                    stats.add(errors=1)
                    scenario = None
            if stop_after_marine and (scenario is None or scenario.done):
                break
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
@click.option("--marine/--no-marine", default=False, show_default=True,
              help="Also play the marine scenario: boat trips, a late boat, a passenger left on Phi Phi, a red flag.")
@click.option("--operator-user", default="boats", show_default=True,
              help="The boat operator's account of the marine scenario (flask demo creates it).")
@click.option("--admin-user", default="admin", show_default=True,
              help="The admin account that registers the scenario's sea station.")
@click.option("--demo-password", default=None, help="Their password (default: flask demo's).")
@click.option("--stop-after-marine", is_flag=True, help="End the run once the marine scenario has played.")
@with_appcontext
def simulate_command(tourists: int, base_url: str, duration: float, interval: float, sos_rate: float,
                     seed: int | None, wait: float, marine: bool, operator_user: str, admin_user: str,
                     demo_password: str | None, stop_after_marine: bool) -> None:
    """Simulate N tourists with the companion app: enroll, move (beach, town, boat trip), ping, SOS."""
    from flask import current_app

    from backend.demo import DEMO_PASSWORD

    if wait:
        wait_for(base_url.rstrip("/"), wait)
    options = None
    if marine:
        options = {"operator_user": operator_user, "admin_user": admin_user,
                   "password": demo_password or DEMO_PASSWORD,
                   "overdue_grace_s": float(current_app.config.get("BOAT_OVERDUE_GRACE_S", 1800))}
    try:
        run(base_url=base_url, tourists=tourists, duration_s=duration, interval_s=interval, sos_rate=sos_rate,
            seed=seed, marine=options, stop_after_marine=stop_after_marine and marine)
    except KeyboardInterrupt:
        click.echo("stopped")
    except requests.RequestException as exc:
        raise click.ClickException(f"the server did not answer as expected: {exc}") from exc
