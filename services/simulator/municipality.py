"""A simulated municipality: its units, ids, the filing of a case's events, the stock running at
the window start and each day's arrivals. The lives drawn for each arrival live in the mixins:
``staffing.py`` (staff posts), ``care.py`` (reports, investigations, decisions, placements) and
``assistance.py`` (economic assistance)."""
from __future__ import annotations

from bisect import bisect_left
from datetime import date
from random import Random

from . import model as M
from .assistance import AssistanceLives
from .care import CareLives
from .draws import DAY, b36, poisson, seed_tag, workday
from .spec import TRANSFERRED, SimulationSpec
from .staffing import StaffPosts
from .world import Unit, World, unit_kind


class Municipality(StaffPosts, CareLives, AssistanceLives):
    def __init__(self, world: World, code: str, index: int, spec: SimulationSpec) -> None:
        self.world = world
        self.clock = world.clock
        self.code = code
        self.rng = Random(f"casewatch-simulator/{spec.seed}/{index}/world")
        self.prng = Random(f"casewatch-simulator/{spec.seed}/{index}/perturb")
        self.event_prefix = f"{code}-{seed_tag(spec.seed)}-"
        self.next_event = 0
        self.next_id = 0
        units = spec.units
        counts = {k: sum(1 for u in units if unit_kind(u) == k) for k in ("bou", "vuxen", "eb", "other") + M.FLOW_KINDS}
        population_scale = spec.population / M.REFERENCE_POPULATION
        self.units = []
        for name in units:
            kind = unit_kind(name)
            per_reference = M.UNITS_PER_REFERENCE.get(kind, 1)
            self.units.append(Unit(code, name, kind, population_scale / counts[kind],
                                   population_scale * per_reference / counts[kind]))
        self.bou = [u for u in self.units if u.kind == "bou"]
        self.vuxen = [u for u in self.units if u.kind == "vuxen"]
        self.eb = [u for u in self.units if u.kind == "eb"]
        self.mottagning = [u for u in self.units if u.kind == "mottagning"]
        self.vald = [u for u in self.units if u.kind == "vald"]
        self.behandling = [u for u in self.units if u.kind == "behandling"]
        # The case being drawn: the unit that has it now and the moves so far (see move()).
        self.owner: Unit | None = None
        self.moves: list = []
        # (unit, role, consultant, fte, first day, leaving day) of everyone employed or hired
        self.staff_log: list[tuple[str, str, bool, float, int, int]] = []
        self.population = spec.population

    # ids ------------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        n = self.next_id
        self.next_id = n + 1
        return f"{prefix}-{self.code}-{b36(n)}"

    def office(self, ordinal: int) -> int:
        """A time within office hours on ``ordinal`` (moved to Monday at weekends)."""
        return (self.clock.midnight(workday(ordinal)) + M.OFFICE_START_SECONDS
                + int(self.rng.random() * M.OFFICE_LENGTH_SECONDS))

    # filing -------------------------------------------------------------------------------------

    def commit(self, unit: Unit, case_id: str, events: list, keep_open: bool = False,
               moves: list | None = None) -> None:
        """File a case's events; a warm-up case that is over before the window is dropped.
        ``moves``: the (instant, unit) a case moves to, in time order (see :meth:`move`); an event
        after a move's instant is filed under the unit moved to, the ``case.transferred`` itself
        under the unit it leaves."""
        if not keep_open and max(e[0] for e in events) < self.world.window_start - M.KEEP_BEFORE_WINDOW_DAYS * DAY:
            return
        if not moves:
            self.file(unit, case_id, events)
            return
        instants = [at for at, _ in moves]
        owners = [unit] + [to for _, to in moves]
        groups: dict[int, list] = {}
        for event in events:
            groups.setdefault(bisect_left(instants, event[0]), []).append(event)
        for k, group in sorted(groups.items()):
            self.file(owners[k], case_id, group)

    def move(self, events: list, at: int, to: Unit) -> None:
        """The case drawn now moves to ``to`` at ``at`` (a ``case.transferred`` from its unit)."""
        if to is self.owner:
            return
        events.append((at, TRANSFERRED, f'{{"to_unit":"{to.name}"}}'))
        self.moves.append((at, to))
        self.owner = to

    def file(self, unit: Unit, case_id: str, events: list) -> None:
        world = self.world
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
                arrival = occurred + int((low + prandom() * (high - low)) * DAY)
                if arrival >= end:
                    arrival = end - 1
                if arrival > occurred:
                    record = (occurred, arrival) + record[2:]
                    world.late_count += 1
            # world.put(arrival, record), inlined: this is the hot path
            world.seq += 1
            k = max((arrival - base) // DAY, 0)  # a stock placement may have begun years before
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
                for _ in range(poisson(rng, mean * unit.scale)):
                    self.stock_placement(unit, ptype, M.PLACEMENT_MEAN_DAYS[ptype], ws_day)
        for unit in self.vuxen:
            for ptype, mean in M.ADULT_PLACEMENT_STOCK.items():
                for _ in range(poisson(rng, mean * unit.scale)):
                    self.stock_placement(unit, ptype, M.ADULT_PLACEMENT_MEAN_DAYS[ptype], ws_day)
        for unit in self.eb:
            for _ in range(poisson(rng, M.ASSISTANCE_STOCK * unit.scale)):
                self.stock_household(unit, ws_day)
        for unit in self.units:
            self.staff(unit, ws_day)

    def stock_placement(self, unit: Unit, ptype: str, mean_days: float, ws_day: int) -> None:
        rng = self.rng
        # began before the warm-up, at an exponential age (see model.CHILD_PLACEMENT_STOCK)
        start_day = self.world.first_day - 1 - int(rng.expovariate(1.0 / mean_days))
        events: list = []
        case_id = self.new_id("c")
        remaining = max(1, int(rng.expovariate(1.0 / mean_days)))
        basis = "sol"
        if unit.kind == "bou" and (ptype == "sis" or rng.random() < M.CHILD_PLACEMENT_LVU_SHARE):
            basis = "lvu"
        elif unit.kind == "vuxen" and ptype == "sis" and rng.random() < M.ADULT_SIS_LVM_SHARE:
            basis = "lvm"
        self.placement(events, start_day, self.office(start_day), ptype,
                       ws_day + remaining - start_day, ws_day, basis, child=unit.kind != "vuxen")
        self.commit(unit, case_id, events, keep_open=True)

    def stock_household(self, unit: Unit, ws_day: int) -> None:
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

    # daily arrivals -----------------------------------------------------------------------------

    def arrivals(self, day: int, weekday: int, month: int) -> None:
        rng = self.rng
        if self.bou:
            rate = M.REPORTS_PER_YEAR / 365.25 * M.WEEKDAY_FACTOR[weekday] * M.MONTH_FACTOR[month - 1]
            for unit in self.bou:
                for _ in range(poisson(rng, rate * unit.scale)):
                    self.child_report(unit, day, weekday)
        if weekday < 5:
            weekdays_per_year = 365.25 * 5 / 7
            for unit in self.vuxen:
                for _ in range(poisson(rng, M.ADULT_INVESTIGATIONS_PER_YEAR / weekdays_per_year * unit.scale)):
                    self.adult_case(unit, day)
            for unit in self.eb:
                for _ in range(poisson(rng, M.APPLICATIONS_PER_YEAR / weekdays_per_year * unit.scale)):
                    self.application(unit, day)

