"""A seeded generator of realistic casewatch event streams (CONTRACT.md events, JSONL bytes).

How it works
------------
The world runs day by day from a warm-up start (``model.WARMUP_DAYS`` before the window) to
``spec.end``. Each day, every unit draws its new arrivals (reports of concern, adult
investigations, applications for economic assistance); each arrival's whole life (screening,
investigation, decision, placement, payments, ...) is drawn at once and its events are filed
into per-day buckets keyed by *arrival* time. A bucket is sorted and written out once every
arrival that can land in it has been drawn, so the stream comes out in arrival order with
little memory. Cases born in the warm-up are kept only when still running at the window start
(their earlier events included), so backlogs and overdue items exist from the first day.
Running placements, households on assistance and staff exist from the start ("stock").

Everything is drawn from ``random.Random`` instances seeded from ``spec.seed`` and the
municipality's position, so the same spec gives the same bytes. Perturbations (late arrivals,
duplicates, malformed lines) use their own generators, so changing a rate leaves the world as is.

No id contains a run of more than five digits, so no valid line can hold a 10/12-digit personal
identity number (CONTRACT.md §1a); fake ones appear only in the deliberately invalid lines.
"""
from __future__ import annotations

import re
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime
from math import exp, log, sqrt
from random import Random
from typing import Iterator, Optional

import orjson

from streams.core.timeutil import STOCKHOLM, shift

from . import model as M

# --- the catalogue, as the generator uses it -------------------------------------------------------

TYPES = (
    "report.received", "report.protection_assessed", "report.screened", "investigation.opened",
    "investigation.extended", "investigation.closed", "decision.made", "decision.enforced",
    "decision.ended", "placement.started", "placement.cost_changed", "placement.ended",
    "application.received", "application.decided", "payment.made", "staff.joined", "staff.left",
)
(REPORT, PROTECTED, SCREENED, INV_OPENED, INV_EXTENDED, INV_CLOSED, DEC_MADE, DEC_ENFORCED,
 DEC_ENDED, PL_STARTED, PL_COST, PL_ENDED, APP_RECEIVED, APP_DECIDED, PAYMENT, STAFF_JOINED,
 STAFF_LEFT) = range(len(TYPES))

INVALID_REASONS = ("invalid_json", "missing_field", "bad_type", "unknown_type", "bad_timestamp",
                   "personal_id_in_payload")

_UNIT_NAME = re.compile(r"[a-z0-9-]{1,40}")

# --- municipality codes ----------------------------------------------------------------------------

# Stockholm county first (real SCB codes), then real county prefixes with code numbers in the
# style SCB uses; 290 in all, like Sweden. Further ones (beyond 290) use a made-up prefix "27".
_STOCKHOLM_COUNTY = ("0138", "0114", "0115", "0117", "0120", "0123", "0125", "0126", "0127", "0128",
                     "0136", "0139", "0140", "0160", "0162", "0163", "0180", "0181", "0182", "0183",
                     "0184", "0186", "0187", "0188", "0191", "0192")
_COUNTIES = (("03", 8), ("04", 9), ("05", 13), ("06", 13), ("07", 8), ("08", 12), ("09", 1),
             ("10", 5), ("12", 33), ("13", 6), ("14", 49), ("17", 16), ("18", 12), ("19", 10),
             ("20", 15), ("21", 10), ("22", 7), ("23", 8), ("24", 15), ("25", 14))
_CODE_NUMBERS = tuple(range(80, 100)) + tuple(range(60, 80)) + tuple(range(10, 60))


def municipality_codes(n: int) -> list[str]:
    """``n`` distinct, real-looking SCB kommunkoder, the first one ``0138``."""
    codes = list(_STOCKHOLM_COUNTY)
    for county, count in _COUNTIES:
        codes.extend(f"{county}{k:02d}" for k in _CODE_NUMBERS[:count])
    k = 0
    while len(codes) < n:
        codes.append(f"27{k % 100:02d}" if k < 100 else f"{28 + k // 100:02d}{k % 100:02d}")
        k += 1
    return codes[:n]


# --- the spec ----------------------------------------------------------------------------------------


def default_end() -> datetime:
    """Now in Europe/Stockholm, truncated to the hour."""
    return datetime.now(STOCKHOLM).replace(minute=0, second=0, microsecond=0)


def default_units(population: int) -> tuple[str, ...]:
    """bou-1, bou-2, vuxen-1, eb-1 at 50,000; more units of each kind for larger populations."""
    scale = population / M.REFERENCE_POPULATION
    units: list[str] = []
    for kind, per_reference in M.UNITS_PER_REFERENCE.items():
        count = max(1, int(per_reference * scale + 0.5))
        units.extend(f"{kind}-{i}" for i in range(1, count + 1))
    return tuple(units)


@dataclass(frozen=True)
class SimulationSpec:
    """What to simulate. ``population`` is per municipality and scales every volume linearly."""

    municipalities: int = 1
    population: int = 50_000
    months: int = 6
    end: datetime = field(default_factory=default_end)
    seed: int = 1
    # Unit names per municipality; None: derived from the population (see default_units).
    units_per_municipality: Optional[tuple[str, ...]] = None
    duplicate_rate: float = 0.01
    late_rate: float = 0.02
    invalid_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.municipalities < 1 or self.population < 1 or self.months < 1:
            raise ValueError("municipalities, population and months must be at least 1")
        if self.end.tzinfo is None or self.end.utcoffset() is None:
            raise ValueError("end must be timezone-aware")
        for name in ("duplicate_rate", "late_rate", "invalid_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if self.units_per_municipality is not None:
            units = tuple(self.units_per_municipality)
            if not units or len(set(units)) != len(units):
                raise ValueError("units_per_municipality must be distinct names")
            for unit in units:
                if not _UNIT_NAME.fullmatch(unit):
                    raise ValueError(f"bad unit name {unit!r}: use [a-z0-9-]{{1,40}}")
            object.__setattr__(self, "units_per_municipality", units)

    @property
    def units(self) -> tuple[str, ...]:
        return self.units_per_municipality or default_units(self.population)

    def window(self) -> tuple[datetime, datetime]:
        """The simulated window [start, end) in Stockholm time: ``months`` calendar months to ``end``."""
        end_ts = self.end.timestamp()
        start_ts = shift(end_ts, -self.months, "months")
        return datetime.fromtimestamp(start_ts, STOCKHOLM), datetime.fromtimestamp(end_ts, STOCKHOLM)


@dataclass
class SimulationStats:
    """Filled in while a simulation runs (lines are counted as they are produced)."""

    lines: int = 0
    events: int = 0  # distinct valid events
    duplicates: int = 0
    late: int = 0
    invalid: int = 0
    first_occurred_at: Optional[str] = None
    last_occurred_at: Optional[str] = None


# --- small helpers -----------------------------------------------------------------------------------

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_B36_1 = [(_B36[i // 36] if i >= 36 else "") + _B36[i % 36] for i in range(1296)]
_B36_2 = [_B36[i // 36] + _B36[i % 36] for i in range(1296)]


def b36(n: int) -> str:
    """Base-36 digits of ``n``; at most five characters below 60 million, hence no long digit runs."""
    if n < 1296:
        return _B36_1[n]
    if n < 1679616:
        return _B36_1[n // 1296] + _B36_2[n % 1296]
    if n < 2176782336:
        return _B36_1[n // 1679616] + _B36_2[n // 1296 % 1296] + _B36_2[n % 1296]
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out


def seed_tag(seed: int) -> str:
    """Letters only (never digits next to the municipality code): part of every event id so that
    streams of different seeds fed to one system do not collide."""
    n = (seed * 2654435761 + 40503) % (26 ** 3)
    return "".join("abcdefghijklmnopqrstuvwxyz"[(n // 26 ** i) % 26] for i in range(3))


class _Choice:
    __slots__ = ("values", "cum", "total")

    def __init__(self, pairs) -> None:
        self.values = tuple(v for v, _ in pairs)
        cum, total = [], 0.0
        for _, w in pairs:
            total += w
            cum.append(total)
        self.cum = cum
        self.total = total

    def __call__(self, random) -> str:
        return self.values[bisect(self.cum, random() * self.total)]


def _poisson(rng: Random, lam: float) -> int:
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        limit = exp(-lam)
        random = rng.random
        k, p = 0, random()
        while p > limit:
            k += 1
            p *= random()
        return k
    return max(0, int(rng.gauss(lam, sqrt(lam)) + 0.5))


def _weekday(ordinal: int) -> int:
    return (ordinal - 1) % 7  # date.fromordinal(1) is a Monday


def _workday(ordinal: int) -> int:
    """The day itself, or the Monday after a Saturday or Sunday."""
    w = (ordinal - 1) % 7
    return ordinal + 7 - w if w >= 5 else ordinal


_MMSS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]


class _Clock:
    """Stockholm calendar on integer POSIX seconds, with the caches the hot path needs."""

    def __init__(self) -> None:
        self._midnight: dict[int, int] = {}
        self._hours: dict[int, tuple[str, str, int]] = {}

    def midnight(self, ordinal: int) -> int:
        m = self._midnight.get(ordinal)
        if m is None:
            d = date.fromordinal(ordinal)
            m = int(datetime(d.year, d.month, d.day, tzinfo=STOCKHOLM).timestamp())
            self._midnight[ordinal] = m
        return m

    def _hour(self, h: int) -> tuple[str, str, int]:
        entry = self._hours.get(h)
        if entry is None:
            local = datetime.fromtimestamp(h * 3600, STOCKHOLM)
            iso = local.isoformat(timespec="seconds")  # YYYY-MM-DDTHH:MM:SS+HH:MM
            entry = (iso[:14], iso[19:], int(local.utcoffset().total_seconds()))
            self._hours[h] = entry
        return entry

    def fmt(self, ts: int) -> str:
        """RFC 3339 with the Stockholm offset, e.g. 2024-03-01T08:15:00+01:00."""
        h = ts // 3600
        entry = self._hours.get(h) or self._hour(h)
        return entry[0] + _MMSS[ts - h * 3600] + entry[1]

    def day(self, ts: int) -> int:
        """The local calendar date (ordinal) of ``ts``."""
        h = ts // 3600
        entry = self._hours.get(h) or self._hour(h)
        return (ts + entry[2]) // 86400 + 719163  # date(1970, 1, 1).toordinal()


def fake_personal_number(rng: Random) -> str:
    """A made-up Swedish personal identity (or coordination) number that passes the date and
    Luhn checks of CONTRACT.md §1a. Only for deliberately invalid test lines."""
    year = rng.randint(1940, 2015)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    if rng.random() < 0.2:
        day += 60  # samordningsnummer
    serial = rng.randint(0, 999)
    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    check = (10 - total % 10) % 10
    if rng.random() < 0.5:
        return f"{year}{month:02d}{day:02d}{serial:03d}{check}"
    return f"{nine[:6]}-{nine[6:]}{check}"


# --- the world -------------------------------------------------------------------------------------

_REPORTER = _Choice(M.REPORTERS)
_REPORT_AGE = _Choice(M.REPORT_AGE_BANDS)
_CHILD_AREA = _Choice(M.CHILD_AREAS)
_ADULT_AREA = _Choice(M.ADULT_AREAS)
_CHILD_INTERVENTION = _Choice(M.CHILD_INTERVENTIONS)
_ADULT_INTERVENTION = _Choice(M.ADULT_INTERVENTIONS)
_CHILD_PLACEMENT = _Choice(M.CHILD_PLACEMENT_TYPES)
_ADULT_PLACEMENT = _Choice(M.ADULT_PLACEMENT_TYPES)
_EMERGENCY_PLACEMENT = _Choice(M.EMERGENCY_PLACEMENT_TYPES)
_PLACEMENT_AGE = {t: _Choice(p) for t, p in M.PLACEMENT_AGE_BANDS.items()}
_PERMANENT_FTE = _Choice(M.PERMANENT_FTE)
_CONSULTANT_FTE = _Choice(M.CONSULTANT_FTE)

_REPORT_DATA = {(r, a): f'{{"reporter":"{r}","age_band":"{a}"}}' for r in _REPORTER.values
                for a in _REPORT_AGE.values}
_REPORT_DATA.update({(r, None): f'{{"reporter":"{r}"}}' for r in _REPORTER.values})
_PROTECTED_DATA = ('{"immediate_protection":false}', '{"immediate_protection":true}')
_SCREENED_DATA = ('{"outcome":"no_investigation"}', '{"outcome":"investigation_opened"}')
_CLOSED_DATA = ('{"outcome":"no_action"}', '{"outcome":"decision"}')
_AREA_DATA = {a: f'{{"area":"{a}"}}' for a in _CHILD_AREA.values + _ADULT_AREA.values}
_DECIDED_DATA = ('{"granted":false}', '{"granted":true}')

_DAY = 86400


class _Unit:
    """``scale``: this unit's share of the municipality's volumes, relative to the reference
    municipality; ``staff_scale``: its staff relative to a reference unit of its kind."""

    __slots__ = ("name", "kind", "scale", "staff_scale", "heads")

    def __init__(self, municipality: str, name: str, kind: str, scale: float, staff_scale: float) -> None:
        self.name = name
        self.kind = kind
        self.scale = scale
        self.staff_scale = staff_scale
        self.heads = [f'"type":"{t}","municipality":"{municipality}","unit":"{name}","case_id":"'
                      for t in TYPES]


def _unit_kind(name: str) -> str:
    for kind in ("bou", "vuxen", "eb"):
        if name.startswith(kind):
            return kind
    return "other"


class _World:
    """Buckets of pending lines by arrival day, and the perturbation draws."""

    def __init__(self, spec: SimulationSpec, clock: _Clock) -> None:
        self.spec = spec
        self.clock = clock
        start, end = spec.window()
        self.window_start = int(start.timestamp())
        self.end = int(end.timestamp())
        self.window_start_day = clock.day(self.window_start)
        self.first_day = self.window_start_day - M.WARMUP_DAYS
        self.last_day = clock.day(self.end - 1)
        self.base = clock.midnight(self.first_day)
        self.last_bucket = (self.end - 1 - self.base) // _DAY
        self.buckets: dict[int, list] = {}
        self.seq = 0
        self.late_rate = spec.late_rate
        self.duplicate_rate = spec.duplicate_rate
        self.late_count = 0
        self.duplicate_count = 0
        self.event_count = 0

    def put(self, arrival: int, record: tuple) -> None:
        if arrival >= self.end:
            arrival = self.end - 1
        k = (arrival - self.base) // _DAY
        if k < 0:
            k = 0
        self.seq += 1
        bucket = self.buckets.get(k)
        if bucket is None:
            bucket = self.buckets[k] = []
        bucket.append((arrival, self.seq) + record)


class _Municipality:
    def __init__(self, world: _World, code: str, index: int, spec: SimulationSpec) -> None:
        self.world = world
        self.clock = world.clock
        self.code = code
        self.rng = Random(f"casewatch-simulator/{spec.seed}/{index}/world")
        self.prng = Random(f"casewatch-simulator/{spec.seed}/{index}/perturb")
        self.event_prefix = f"{code}-{seed_tag(spec.seed)}-"
        self.next_event = 0
        self.next_id = 0
        units = spec.units
        counts = {k: sum(1 for u in units if _unit_kind(u) == k) for k in ("bou", "vuxen", "eb", "other")}
        population_scale = spec.population / M.REFERENCE_POPULATION
        self.units = []
        for name in units:
            kind = _unit_kind(name)
            per_reference = M.UNITS_PER_REFERENCE.get(kind, 1)
            self.units.append(_Unit(code, name, kind, population_scale / counts[kind],
                                    population_scale * per_reference / counts[kind]))
        self.bou = [u for u in self.units if u.kind == "bou"]
        self.vuxen = [u for u in self.units if u.kind == "vuxen"]
        self.eb = [u for u in self.units if u.kind == "eb"]

    # ids ------------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        n = self.next_id
        self.next_id = n + 1
        return f"{prefix}-{self.code}-{b36(n)}"

    def office(self, ordinal: int) -> int:
        """A time within office hours on ``ordinal`` (moved to Monday at weekends)."""
        return (self.clock.midnight(_workday(ordinal)) + M.OFFICE_START_SECONDS
                + int(self.rng.random() * M.OFFICE_LENGTH_SECONDS))

    # filing -------------------------------------------------------------------------------------

    def commit(self, unit: _Unit, case_id: str, events: list, keep_open: bool = False) -> None:
        """File a case's events; a warm-up case that is over before the window is dropped."""
        world = self.world
        if not keep_open and max(e[0] for e in events) < world.window_start - M.KEEP_BEFORE_WINDOW_DAYS * _DAY:
            return
        end = world.end
        heads = unit.heads
        prefix = self.event_prefix
        prandom = self.prng.random
        late_rate, duplicate_rate = world.late_rate, world.duplicate_rate
        buckets, base = world.buckets, world.base
        n = self.next_event
        for occurred, type_, data in events:
            if occurred >= end:
                continue
            record = (occurred, 0, prefix + b36(n), heads[type_], case_id, data)
            n += 1
            arrival = occurred
            if late_rate and prandom() < late_rate:
                low, high = M.LATE_DELAY_DAYS
                arrival = occurred + int((low + prandom() * (high - low)) * _DAY)
                if arrival >= end:
                    arrival = end - 1
                if arrival > occurred:
                    record = (occurred, arrival) + record[2:]
                    world.late_count += 1
            # world.put(arrival, record), inlined: this is the hot path
            world.seq += 1
            k = max((arrival - base) // _DAY, 0)  # a stock placement may have begun years before
            bucket = buckets.get(k)
            if bucket is None:
                bucket = buckets[k] = []
            bucket.append((arrival, world.seq) + record)
            if duplicate_rate and prandom() < duplicate_rate:
                low, high = M.DUPLICATE_DELAY_SECONDS
                world.put(arrival + low + int(prandom() * (high - low)), record)
                world.duplicate_count += 1
        world.event_count += n - self.next_event
        self.next_event = n

    # stock at the start -----------------------------------------------------------------------

    def init_stock(self) -> None:
        rng = self.rng
        ws_day = self.world.window_start_day
        for unit in self.bou:
            for ptype, mean in M.CHILD_PLACEMENT_STOCK.items():
                for _ in range(_poisson(rng, mean * unit.scale)):
                    self.stock_placement(unit, ptype, M.PLACEMENT_MEAN_DAYS[ptype], ws_day)
        for unit in self.vuxen:
            for ptype, mean in M.ADULT_PLACEMENT_STOCK.items():
                for _ in range(_poisson(rng, mean * unit.scale)):
                    self.stock_placement(unit, ptype, M.ADULT_PLACEMENT_MEAN_DAYS[ptype], ws_day)
        for unit in self.eb:
            for _ in range(_poisson(rng, M.ASSISTANCE_STOCK * unit.scale)):
                self.stock_household(unit, ws_day)
        for unit in self.units:
            self.staff(unit, ws_day)

    def stock_placement(self, unit: _Unit, ptype: str, mean_days: float, ws_day: int) -> None:
        rng = self.rng
        # began before the warm-up, at an exponential age (see model.CHILD_PLACEMENT_STOCK)
        start_day = self.world.first_day - 1 - int(rng.expovariate(1.0 / mean_days))
        events: list = []
        case_id = self.new_id("c")
        remaining = max(1, int(rng.expovariate(1.0 / mean_days)))
        self.placement(events, start_day, self.office(start_day), ptype,
                       ws_day + remaining - start_day, ws_day)
        self.commit(unit, case_id, events, keep_open=True)

    def stock_household(self, unit: _Unit, ws_day: int) -> None:
        rng = self.rng
        months = self.spell_months()
        events: list = []
        first = date.fromordinal(ws_day)
        payday = rng.randint(*M.PAYDAY)
        year, month = first.year, first.month
        if payday < first.day:
            month += 1
        self.payments(events, year, month, months, payday)
        if events:
            self.commit(unit, self.new_id("c"), events, keep_open=True)

    # staff --------------------------------------------------------------------------------------

    def staff(self, unit: _Unit, ws_day: int) -> None:
        rng = self.rng
        scale = unit.staff_scale
        for role, permanent, consultants in M.STAFF_POSITIONS[unit.kind]:
            n_perm = int(permanent * scale + 0.5)
            if n_perm == 0 and permanent and role in ("socialsekreterare", "arbetsledare"):
                n_perm = 1
            for _ in range(n_perm):
                # Tenure is exponential, so the tenure so far and the remaining one at the
                # window start are too (a steady state, not everyone hired last month).
                join = ws_day - 1 - int(rng.expovariate(M.STAFF_TURNOVER_PER_YEAR) * 365.25)
                self.permanent_post(unit, role, join, ws_day)
            for _ in range(int(consultants * scale + 0.5)):
                # the post's chain of contracts began up to one contract before the window, so
                # the one running at its start is part-way through an ordinary contract
                join = ws_day - rng.randint(1, M.CONSULTANT_CONTRACT_DAYS[1])
                self.consultant_post(unit, role, join, join)

    def tenure_days(self) -> int:
        return max(30, int(self.rng.expovariate(M.STAFF_TURNOVER_PER_YEAR) * 365.25))

    def permanent_post(self, unit: _Unit, role: str, join: int, tenure_from: int) -> None:
        rng = self.rng
        last = self.world.last_day
        while join <= last:
            leave = tenure_from + self.tenure_days()
            self.person(unit, role, False, join, leave)
            next_join = leave + rng.randint(*M.VACANCY_DAYS)
            if rng.random() < M.VACANCY_BRIDGED_BY_CONSULTANT:
                c_join = leave + rng.randint(*M.CONSULTANT_START_AFTER_VACANCY)
                if c_join < next_join - 5:
                    self.person(unit, role, True, c_join, next_join)
            join = tenure_from = next_join

    def consultant_post(self, unit: _Unit, role: str, join: int, contract_from: int) -> None:
        rng = self.rng
        last = self.world.last_day
        while join <= last:
            leave = contract_from + rng.randint(*M.CONSULTANT_CONTRACT_DAYS)
            self.person(unit, role, True, join, leave)
            if rng.random() < M.CONSULTANT_SLOT_BECOMES_PERMANENT:
                hire = leave + rng.randint(30, 90)
                self.permanent_post(unit, role, hire, hire)
                return
            join = contract_from = leave + rng.randint(*M.CONSULTANT_GAP_DAYS)

    def person(self, unit: _Unit, role: str, consultant: bool, join: int, leave: int) -> None:
        rng = self.rng
        staff_id = self.new_id("s")
        if consultant:
            fte = _CONSULTANT_FTE(rng.random)
            low, high = M.CONSULTANT_DAILY_COST_SEK
            cost = rng.randint(low // 50, high // 50) * 50
            data = (f'{{"staff_id":"{staff_id}","role":"{role}","employment":"consultant",'
                    f'"fte":{fte},"daily_cost_sek":{cost}}}')
        else:
            fte = _PERMANENT_FTE(rng.random)
            data = f'{{"staff_id":"{staff_id}","role":"{role}","employment":"permanent","fte":{fte}}}'
        join_ts = self.office(join)
        leave_ts = max(self.office(leave), join_ts + 3600)
        self.commit(unit, staff_id, [(join_ts, STAFF_JOINED, data),
                                     (leave_ts, STAFF_LEFT, f'{{"staff_id":"{staff_id}"}}')], True)

    # daily arrivals -----------------------------------------------------------------------------

    def arrivals(self, day: int, weekday: int, month: int) -> None:
        rng = self.rng
        if self.bou:
            rate = M.REPORTS_PER_YEAR / 365.25 * M.WEEKDAY_FACTOR[weekday] * M.MONTH_FACTOR[month - 1]
            for unit in self.bou:
                for _ in range(_poisson(rng, rate * unit.scale)):
                    self.child_report(unit, day, weekday)
        if weekday < 5:
            weekdays_per_year = 365.25 * 5 / 7
            for unit in self.vuxen:
                for _ in range(_poisson(rng, M.ADULT_INVESTIGATIONS_PER_YEAR / weekdays_per_year * unit.scale)):
                    self.adult_case(unit, day)
            for unit in self.eb:
                for _ in range(_poisson(rng, M.APPLICATIONS_PER_YEAR / weekdays_per_year * unit.scale)):
                    self.application(unit, day)

    def child_report(self, unit: _Unit, day: int, weekday: int) -> None:
        rng = self.rng
        random = rng.random
        midnight = self.clock.midnight(day)
        if weekday < 5 and random() < M.REPORT_OFFICE_HOURS_SHARE:
            received = midnight + 8 * 3600 + int(random() * 9 * 3600)
        else:
            received = midnight + int(random() * 86400)
        age = _REPORT_AGE(random) if random() < M.REPORT_AGE_BAND_PRESENT else None
        events = [(received, REPORT, _REPORT_DATA[_REPORTER(random), age])]
        immediate = random() < M.IMMEDIATE_PROTECTION_SHARE
        latest = received
        if immediate or random() < M.PROTECTION_DONE_SHARE:
            if random() < M.PROTECTION_LATE_SHARE:
                low, high = M.PROTECTION_LATE_HOURS
                hours = low + random() * (high - low)
            else:
                hours = min(23.5, rng.lognormvariate(log(M.PROTECTION_MEDIAN_HOURS), 0.9))
            latest = received + 300 + int(hours * 3600)
            events.append((latest, PROTECTED, _PROTECTED_DATA[immediate]))
        if immediate and random() < M.EMERGENCY_PLACEMENT_SHARE:
            self.emergency_placement(events, latest + 1800 + int(random() * 3 * 3600))
        if random() < M.SCREENING_BREACH_SHARE:
            days = int(rng.triangular(*M.SCREENING_LATE_DAYS[:2], M.SCREENING_LATE_DAYS[2]))
        else:
            days = int(rng.triangular(*M.SCREENING_ON_TIME_DAYS[:2], M.SCREENING_ON_TIME_DAYS[2]))
        screen_day = _workday(day + days)
        screened = max(self.office(screen_day), latest + 3600)
        investigate = immediate or random() < M.SCREENING_INVESTIGATED_SHARE
        events.append((screened, SCREENED, _SCREENED_DATA[investigate]))
        if investigate:
            self.investigation(
                events, screen_day, screened + 300 + int(random() * 7200), _CHILD_AREA(random),
                M.CHILD_INVESTIGATION_DAYS, M.CHILD_DECISION_SHARE, _CHILD_INTERVENTION,
                _CHILD_PLACEMENT, M.PLACEMENT_MEAN_DAYS)
        self.commit(unit, self.new_id("c"), events)

    def adult_case(self, unit: _Unit, day: int) -> None:
        events: list = []
        random = self.rng.random
        self.investigation(
            events, day, self.office(day), _ADULT_AREA(random), M.ADULT_INVESTIGATION_DAYS,
            M.ADULT_DECISION_SHARE, _ADULT_INTERVENTION, _ADULT_PLACEMENT, M.ADULT_PLACEMENT_MEAN_DAYS)
        self.commit(unit, self.new_id("c"), events)

    def investigation(self, events: list, day: int, opened: int, area: str, duration, decision_share,
                      interventions: _Choice, placements: _Choice, mean_days: dict) -> None:
        """Open, maybe extend, close, maybe decide."""
        rng = self.rng
        events.append((opened, INV_OPENED, _AREA_DATA[area]))
        length = int(rng.triangular(duration[0], duration[1], duration[2]))
        if length > M.INVESTIGATION_LIMIT_DAYS and rng.random() < M.EXTENDED_SHARE_OF_LONG:
            decided_on = rng.randint(M.EXTENSION_DECIDED_DAY[0], min(M.EXTENSION_DECIDED_DAY[1], length - 3))
            new_due = opened + (M.INVESTIGATION_LIMIT_DAYS + rng.randint(*M.EXTENSION_EXTRA_DAYS)) * _DAY
            events.append((max(self.office(day + decided_on), opened + 3600), INV_EXTENDED,
                           f'{{"new_due":"{self.clock.fmt(new_due)}"}}'))
        close_day = _workday(day + length)
        closed = max(self.office(close_day), opened + 3600)
        decide = rng.random() < decision_share
        events.append((closed, INV_CLOSED, _CLOSED_DATA[decide]))
        if not decide:
            return
        made_day = close_day + rng.randint(*M.DECISION_AFTER_CLOSE_DAYS)
        made = max(self.office(made_day), closed + 600)
        self.decision(events, made_day, made, interventions(rng.random), placements, mean_days)

    def decision(self, events: list, day: int, made: int, intervention: str, placements: _Choice,
                 mean_days: dict) -> None:
        rng = self.rng
        random = rng.random
        decision_id = self.new_id("d")
        events.append((made, DEC_MADE, f'{{"decision_id":"{decision_id}","intervention":"{intervention}"}}'))
        fates = M.DECISION_FATES_FAMILY_TREATMENT if intervention == "familjebehandling" else M.DECISION_FATES
        u = random()
        if u < fates[0]:
            days = int(min(M.ENFORCEMENT_MAX_ON_TIME_DAYS, rng.lognormvariate(log(M.ENFORCEMENT_MEDIAN_DAYS), 0.8)))
        elif u < fates[0] + fates[1]:
            days = rng.randint(*M.LATE_ENFORCEMENT_DAYS)
        else:
            low, high = M.ENDED_UNENFORCED_DAYS if u < fates[0] + fates[1] + fates[2] else M.LONG_PENDING_DAYS
            ended_day = day + rng.randint(low, high)
            reason = M.DECISION_END_REASONS[int(random() * len(M.DECISION_END_REASONS))]
            events.append((max(self.office(ended_day), made + 600), DEC_ENDED,
                           f'{{"decision_id":"{decision_id}","reason":"{reason}"}}'))
            return
        enforced_day = _workday(day + days)
        enforced = max(self.office(enforced_day), made + 600)
        events.append((enforced, DEC_ENFORCED, f'{{"decision_id":"{decision_id}"}}'))
        if intervention == "placement":
            ptype = placements(random)
            length = max(M.PLACEMENT_MIN_DAYS, int(rng.expovariate(1.0 / mean_days[ptype])))
            self.placement(events, enforced_day, enforced + 60, ptype, length, enforced_day)

    def emergency_placement(self, events: list, at: int) -> None:
        """An immediate placement after a protection assessment (e.g. LVU 6 §)."""
        rng = self.rng
        decision_id = self.new_id("d")
        events.append((at, DEC_MADE, f'{{"decision_id":"{decision_id}","intervention":"placement"}}'))
        events.append((at + 60, DEC_ENFORCED, f'{{"decision_id":"{decision_id}"}}'))
        ptype = _EMERGENCY_PLACEMENT(rng.random)
        length = max(M.PLACEMENT_MIN_DAYS, int(rng.expovariate(1.0 / M.PLACEMENT_MEAN_DAYS[ptype])))
        self.placement(events, self.clock.day(at), at + 120, ptype, length, self.clock.day(at))

    def placement_cost(self, ptype: str) -> int:
        rng = self.rng
        if ptype == "hvb":
            return int(rng.triangular(M.HVB_COST[0], M.HVB_COST[1], M.HVB_COST[2]))
        if ptype == "sis":
            if rng.random() < M.SIS_SPECIAL_SHARE:
                return rng.randint(*M.SIS_SPECIAL_COST)
            return rng.randint(*M.SIS_COST)
        return rng.randint(*M.UNIFORM_COSTS[ptype])

    def placement(self, events: list, day: int, started: int, ptype: str, length: int,
                  changes_from: int) -> None:
        """placement.started at ``started`` (on ``day``), ended ``length`` days later; price
        changes only on days from ``changes_from`` on."""
        rng = self.rng
        placement_id = self.new_id("p")
        cost = self.placement_cost(ptype)
        age = _PLACEMENT_AGE[ptype](rng.random)
        events.append((started, PL_STARTED,
                       f'{{"placement_id":"{placement_id}","placement_type":"{ptype}",'
                       f'"daily_cost_sek":{cost},"age_band":"{age}"}}'))
        end_day = day + length
        ended = max(self.office(end_day), started + 3600)
        span = end_day - changes_from
        if span > 2:
            n = _poisson(rng, span / 365.25 * M.COST_CHANGES_PER_YEAR)
            for change_day in sorted(rng.randint(changes_from + 1, end_day - 1) for _ in range(n)):
                cost = int(cost * rng.uniform(*M.COST_CHANGE_FACTOR))
                at = max(self.office(change_day), started + 600)
                if at < ended:
                    events.append((at, PL_COST, f'{{"placement_id":"{placement_id}","daily_cost_sek":{cost}}}'))
        events.append((ended, PL_ENDED, f'{{"placement_id":"{placement_id}"}}'))

    # economic assistance ------------------------------------------------------------------------

    def spell_months(self) -> int:
        p = 1.0 / M.ASSISTANCE_MEAN_MONTHS
        months = 1 + int(log(1.0 - self.rng.random()) / log(1.0 - p))
        return min(months, M.ASSISTANCE_MAX_MONTHS)

    def payments(self, events: list, year: int, month: int, count: int, payday: int) -> None:
        rng = self.rng
        low, high = M.PAYMENT_SEK
        base = rng.randint(low // 10, high // 10) * 10
        vlow, vhigh = M.PAYMENT_MONTHLY_VARIATION
        for _ in range(count):
            year += (month - 1) // 12
            month = (month - 1) % 12 + 1
            amount = min(high, max(low, int(base * rng.uniform(vlow, vhigh) / 10) * 10))
            events.append((self.office(date(year, month, payday).toordinal()), PAYMENT,
                           f'{{"amount_sek":{amount}}}'))
            month += 1

    def application(self, unit: _Unit, day: int) -> None:
        rng = self.rng
        received = self.office(day)
        events = [(received, APP_RECEIVED, "{}")]
        d = M.APPLICATION_DECISION_DAYS
        decided_day = _workday(day + int(rng.triangular(d[0], d[1], d[2])))
        decided = max(self.office(decided_day), received + 3600)
        granted = rng.random() < M.APPLICATION_GRANTED_SHARE
        events.append((decided, APP_DECIDED, _DECIDED_DATA[granted]))
        if granted:
            first_day = _workday(decided_day + rng.randint(1, 3))
            events.append((max(self.office(first_day), decided + 600), PAYMENT,
                           f'{{"amount_sek":{rng.randint(M.PAYMENT_SEK[0] // 10, M.PAYMENT_SEK[1] // 10) * 10}}}'))
            months = self.spell_months() - 1
            if months:
                first = date.fromordinal(first_day)
                payday = rng.randint(*M.PAYDAY)
                self.payments(events, first.year, first.month + 1, months, payday)
        self.commit(unit, self.new_id("c"), events)


# --- the stream ------------------------------------------------------------------------------------


_TAIL = f',"source":"{M.SOURCE}"}}\n'


def _run(spec: SimulationSpec, stats: Optional[SimulationStats], labelled: bool) -> Iterator[list]:
    """Lists of lines (or (line, reason) pairs when ``labelled``), one per arrival day."""
    clock = _Clock()
    world = _World(spec, clock)
    municipalities = [_Municipality(world, code, i, spec)
                      for i, code in enumerate(municipality_codes(spec.municipalities))]
    for mun in municipalities:
        mun.init_stock()

    def arrivals(day: int) -> None:
        if day > world.last_day:
            return
        d = date.fromordinal(day)
        weekday = d.weekday()
        for mun in municipalities:
            mun.arrivals(day, weekday, d.month)

    invalid_rate = spec.invalid_rate
    irng = Random(f"casewatch-simulator/{spec.seed}/invalid")
    invalid_prefix = f"x-{seed_tag(spec.seed)}-"
    n_invalid = 0
    fmt = clock.fmt
    buckets = world.buckets
    arrivals(world.first_day)
    first = last = None
    for k in range(world.last_bucket + 1):
        arrivals(world.first_day + k + 1)
        bucket = buckets.pop(k, None)
        if not bucket:
            continue
        bucket.sort()
        lines: list = []
        append = lines.append
        for _arrival, _seq, occurred, recorded, event_id, head, case_id, data in bucket:
            if recorded:
                line = (f'{{"event_id":"{event_id}",{head}{case_id}","occurred_at":"{fmt(occurred)}",'
                        f'"recorded_at":"{fmt(recorded)}","data":{data}{_TAIL}').encode()
            else:
                line = (f'{{"event_id":"{event_id}",{head}{case_id}","occurred_at":"{fmt(occurred)}",'
                        f'"data":{data}{_TAIL}').encode()
            append((line, None) if labelled else line)
            if invalid_rate and irng.random() < invalid_rate:
                reason = INVALID_REASONS[int(irng.random() * len(INVALID_REASONS))]
                bad = _spoil(line, reason, irng, invalid_prefix + b36(n_invalid))
                n_invalid += 1
                append((bad, reason) if labelled else bad)
        if stats is not None:
            stats.lines += len(lines)
            low = min(r[2] for r in bucket)
            high = max(r[2] for r in bucket)
            first = low if first is None or low < first else first
            last = high if last is None or high > last else last
        yield lines
    if stats is not None:
        stats.events = world.event_count
        stats.duplicates = world.duplicate_count
        stats.late = world.late_count
        stats.invalid = n_invalid
        stats.first_occurred_at = None if first is None else fmt(first)
        stats.last_occurred_at = None if last is None else fmt(last)


def _spoil(line: bytes, reason: str, rng: Random, event_id: str) -> bytes:
    """A malformed variant of a valid line that the contract rejects with ``reason``."""
    if reason == "invalid_json":
        return line[: len(line) // 2].rstrip(b"\n") + b"\n"
    obj = orjson.loads(line)
    obj["event_id"] = event_id
    pick = rng.randrange(3)
    if reason == "missing_field":
        if pick == 2 and obj["data"]:
            del obj["data"][next(iter(obj["data"]))]  # the first data field is always required
        else:
            del obj[("case_id", "occurred_at", "type")[pick]]
    elif reason == "bad_type":
        if pick == 0:
            obj["case_id"] = 4711
        elif pick == 1:
            obj["municipality"] = int(obj["municipality"])
        else:
            obj["data"] = []
    elif reason == "unknown_type":
        obj["type"] = ("report.withdrawn", "case.merged", "placement.paused")[pick]
    elif reason == "bad_timestamp":
        occurred = obj["occurred_at"]
        obj["occurred_at"] = (occurred[:19], occurred[:10], occurred[:19] + "Z+1")[pick]
    elif reason == "personal_id_in_payload":
        number = fake_personal_number(rng)
        if pick == 0:
            obj["case_id"] = number
        elif pick == 1:
            obj["comment"] = f"barnet {number} har flyttat"
        else:
            obj["data"]["note"] = number
    else:  # pragma: no cover
        raise ValueError(reason)
    return orjson.dumps(obj) + b"\n"


def simulate(spec: SimulationSpec) -> Iterator[bytes]:
    """JSONL lines (bytes, each ending in a newline) in arrival order. Deterministic per spec."""
    for lines in _run(spec, None, False):
        yield from lines


def simulate_chunks(spec: SimulationSpec, stats: Optional[SimulationStats] = None) -> Iterator[list[bytes]]:
    """The same lines as :func:`simulate`, a list per arrival day (cheaper to write in bulk)."""
    return _run(spec, stats, False)


def simulate_labelled(spec: SimulationSpec) -> Iterator[tuple[bytes, Optional[str]]]:
    """(line, expected rejection reason or None) pairs: the same lines as :func:`simulate`."""
    for lines in _run(spec, None, True):
        yield from lines
