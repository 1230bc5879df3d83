"""The year forecast (årsprognos) of placements and consultants, with endings modelled.

Invariants, in prose:

* Durations come from the municipality's own history as far as the events reach: every
  placement (per type) and every hired consultant that started, ended ones as observed
  durations and running ones as censored at their age so far (Kaplan–Meier). One that was
  already running when the events begin enters the risk set only from the age it had then
  (left truncation), so old long placements do not make everything look long.
* Where fewer than :data:`MIN_AT_RISK` are left at risk, or too few have ended to say
  anything, the survival goes on with a constant daily hazard: the one observed beyond the last
  reliable step (endings there / days observed there) when at least :data:`MIN_TAIL_ENDED`
  ended there, else the overall one (ended / days observed). A consultant's contract of at
  most nine months ends sooner the older it is; the overall rate would let an old one run on.
  Never "runs to 31 December" unless nothing has ever ended.
* Durations are per placement type and per group of units (the activity: children's and
  adults' HVB stays differ), falling back to the type over all groups, then to every
  placement, when a group has fewer than :data:`MIN_ENDED` endings of the type.
* The law bounds some stays: care under LVM ends at the latest six months after it began
  (LVM 20 §), so an LVM placement is never expected to run past that day.
* A running placement is expected to cost its daily cost in force × the expected days it still
  runs within the year, given the age it has reached. New starts arrive at the rate of the
  trailing :data:`INFLOW_MONTHS` months, evenly over the remaining days, each at the mean
  initial daily cost of those starts, and runs the expected days left of the year from its
  start.
* Hired consultants fill posts: when one contract ends the next consultant takes the post, so
  their number is a staffing level rather than a flow of independent starts. Their forecast is
  the mean daily cost of the trailing :data:`CONSULTANT_LEVEL_MONTHS` months (from the first
  staff event when the events reach less far back) for every remaining day.
* Pure: facts in, numbers out; no I/O.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from calendar import monthrange
from datetime import date
from math import exp, fsum
from typing import Callable, Iterable

from streams.core.facts import CaseFacts
from streams.core.timeutil import local_day

MIN_AT_RISK = 20  # below this the Kaplan-Meier steps are noise; the constant hazard takes over
MIN_TAIL_ENDED = 3  # endings beyond the last reliable step needed to estimate the tail's own hazard
MIN_ENDED = 5  # a type with fewer endings borrows the pooled durations of its family
INFLOW_MONTHS = 12  # trailing window of placement starts: long enough to smooth a year's chance
CONSULTANT_LEVEL_MONTHS = 12  # the consultants' mean level over a year smooths the gaps between contracts
LVM_MAX_MONTHS = 6  # LVM 20 §: care under LVM ends at the latest when it has lasted six months

METHOD_SV = (
    "Årsprognosen är årets utfall hittills plus resten av året, där pågående placeringar räknas "
    "fram med hur länge placeringar av samma slag brukar pågå i kommunen (LVM högst sex månader), "
    "nya placeringar i den takt de har kommit det senaste året och inhyrda konsulter i den nivå "
    "de har haft det senaste året. Ekonomiskt bistånd räknas med genomsnittet per månad de "
    "senaste tre månaderna och övriga poster i huvudboken, som egen personal, lokaler och "
    "intäkter, med genomsnittet för årets senaste månader (högst tre)."
)


@dataclass(frozen=True)
class Spell:
    """One placement or consultant assignment in days: ``entry`` the age at which it came
    into view, ``length`` its observed age (ended) or age so far (running)."""

    length: int
    ended: bool
    entry: int = 0


class Survival:
    """P(duration > t) for whole days t >= 0, Kaplan–Meier with a constant-hazard tail."""

    def __init__(self, spells: Iterable[Spell]) -> None:
        spells = [s for s in spells if s.length >= s.entry]
        self.ended = sum(1 for s in spells if s.ended)
        exposure = sum(s.length - s.entry for s in spells)
        # nothing has ever ended: no basis for an ending, the item is expected to run on
        self.hazard = self.ended / exposure if self.ended and exposure > 0 else 0.0
        events: dict[int, int] = {}
        for s in spells:
            if s.ended:
                events[s.length] = events.get(s.length, 0) + 1
        entries = sorted(s.entry for s in spells)
        ended_exits = sorted(s.length for s in spells if s.ended)
        censored_exits = sorted(s.length for s in spells if not s.ended)
        # at risk on day d: came into view by d, and neither ended before d nor censored by d
        self._steps: list[tuple[int, float]] = []
        surv = 1.0
        for d in sorted(events):
            at_risk = (bisect_right(entries, d) - bisect_right(ended_exits, d - 1)
                       - bisect_right(censored_exits, d))
            if at_risk < MIN_AT_RISK:
                break
            surv *= 1.0 - events[d] / at_risk
            self._steps.append((d, surv))
        self.reliable_to = self._steps[-1][0] if self._steps else -1
        # beyond the last reliable step the hazard is the one observed there, when enough ended
        # there: contracts of a bounded length end faster the older they are, so the overall
        # rate would make an old one run on far too long
        if self._steps:
            beyond_ended = sum(1 for s in spells if s.ended and s.length > self.reliable_to)
            beyond_exposure = sum(s.length - max(s.entry, self.reliable_to) for s in spells
                                  if s.length > self.reliable_to)
            if beyond_ended >= MIN_TAIL_ENDED and beyond_exposure > 0:
                self.hazard = beyond_ended / beyond_exposure
        self._grid: list[float] = []  # S(0), S(1), ...
        self._cum: list[float] = [0.0]  # Σ S(0..t-1)

    def _extend(self, n: int) -> None:
        grid, steps = self._grid, self._steps
        i = bisect_right([d for d, _ in steps], len(grid) - 1) if grid else 0
        base = steps[-1][1] if steps else 1.0
        while len(grid) < n:
            t = len(grid)
            if t <= self.reliable_to:
                while i < len(steps) and steps[i][0] <= t:
                    i += 1
                value = steps[i - 1][1] if i else 1.0
            else:
                value = base * exp(-self.hazard * (t - self.reliable_to))
            grid.append(value)
            self._cum.append(self._cum[-1] + value)

    def __call__(self, t: int) -> float:
        """S(t) = P(duration > t); S(-1) = 1."""
        if t < 0:
            return 1.0
        self._extend(t + 1)
        return self._grid[t]

    def days_left(self, age: int, horizon: int) -> float:
        """Expected days charged in the next ``horizon`` days for one that has run ``age`` days."""
        if horizon <= 0:
            return 0.0
        start = self(age - 1)
        if start <= 0:
            return 0.0
        self._extend(age + horizon)
        return (self._cum[age + horizon] - self._cum[age]) / start

    def days_of_new(self, horizon: int) -> float:
        """Σ over start days u = 0..horizon-1 of the expected days charged before the horizon."""
        self._extend(horizon)
        return fsum(self._cum[1:horizon + 1])


def _ended(spells: list[Spell]) -> int:
    return sum(1 for s in spells if s.ended)


@dataclass(frozen=True)
class History:
    """Durations known at ``as_of``: per (group, placement type), and of consultants. A group is
    what ``group_of(unit)`` says (the activity), the unit itself when none is given."""

    placements: dict[tuple[str, str], list[Spell]]
    consultants: list[Spell]
    first_staff_day: int | None = None

    @classmethod
    def of(cls, facts: Iterable[CaseFacts], as_of: float, first_day: int | None,
           group_of: Callable[[str], str] | None = None) -> "History":
        day = local_day(as_of) + 1  # the ages are counted through the month's last day
        placements: dict[tuple[str, str], list[Spell]] = {}
        consultants: list[Spell] = []
        first_staff: int | None = None
        group_of = group_of or (lambda unit: "")

        def spell(started: float, ended: float | None) -> Spell | None:
            s = local_day(started)
            if started > as_of:
                return None
            entry = max(0, (first_day - s)) if first_day is not None else 0
            if ended is not None and ended <= as_of:
                return Spell(max(local_day(ended) - s, 0), True, entry)
            return Spell(day - s, False, entry)

        for case in facts:
            for p in case.placements:
                sp = spell(p.started, p.ended)
                if sp is not None:
                    placements.setdefault((group_of(p.unit), p.placement_type), []).append(sp)
            for st in case.staff:
                if st.joined <= as_of:
                    joined = local_day(st.joined)
                    first_staff = joined if first_staff is None else min(first_staff, joined)
                if st.employment == "consultant" and st.daily_cost_sek:
                    sp = spell(st.joined, st.left)
                    if sp is not None:
                        consultants.append(sp)
        return cls(placements, consultants, first_staff)

    def placement_survival(self, kind: str, group: str = "") -> Survival:
        """The group's own durations of the type when :data:`MIN_ENDED` have ended, else the
        type's over every group, else every placement's."""
        own = self.placements.get((group, kind), [])
        if _ended(own) >= MIN_ENDED:
            return Survival(own)
        of_type = [s for (_g, k), spells in self.placements.items() if k == kind for s in spells]
        if _ended(of_type) >= MIN_ENDED:
            return Survival(of_type)
        return Survival([s for spells in self.placements.values() for s in spells])

    def consultant_survival(self) -> Survival:
        return Survival(self.consultants)


def lvm_last_day(started: float) -> int:
    """The day (ordinal) care under LVM that began at ``started`` has ended by at the latest."""
    d = date.fromordinal(local_day(started))
    index = d.year * 12 + d.month - 1 + LVM_MAX_MONTHS
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, monthrange(year, month + 1)[1])).toordinal()


def observation_start(facts: Iterable[CaseFacts]) -> int | None:
    """The first day (ordinal) from which the events hold every case, not only the ones still
    open when the log began: the Monday of the first week whose reports of concern reach half
    the median week's. Earlier events (an open case's own past) are seen only because the case
    was still running, so durations from before it are left-truncated there."""
    weeks: dict[int, int] = {}
    for case in facts:
        for r in case.reports:
            day = local_day(r.received)
            monday = day - date.fromordinal(day).weekday()
            weeks[monday] = weeks.get(monday, 0) + 1
    if not weeks:
        return None
    counts = sorted(weeks.values())
    half_median = counts[len(counts) // 2] / 2
    return min(w for w, n in weeks.items() if n >= half_median)


def months_back(year: int, month: int, n: int) -> date:
    """First day of the month ``n - 1`` months before (n = 3: the trailing 3-month window)."""
    index = year * 12 + month - 1 - (n - 1)
    return date(index // 12, index % 12 + 1, 1)


def consultant_level(facts: list[CaseFacts], owns, as_of: float, first_day: int, months: int) -> tuple[float, int]:
    """The consultants' mean cost per day over the trailing ``months`` months (from
    ``first_day`` when that is later), and how many were hired in that time."""
    lo = local_day(as_of) + 1
    year, month = date.fromordinal(lo - 1).year, date.fromordinal(lo - 1).month
    window_lo = max(months_back(year, month, months).toordinal(), first_day)
    if window_lo >= lo:
        return 0.0, 0
    cost, hired = [], 0
    for case in facts:
        for s in case.staff:
            if not owns(s.unit) or s.employment != "consultant" or not s.daily_cost_sek or s.joined > as_of:
                continue
            joined = local_day(s.joined)
            left = local_day(s.left) if s.left is not None and s.left <= as_of else lo
            days = min(left, lo) - max(joined, window_lo)
            if days > 0:
                cost.append(s.daily_cost_sek * days)
            hired += window_lo <= joined < lo
    return fsum(cost) / (lo - window_lo), hired


def forecast_parts(facts: list[CaseFacts], owns, sources: tuple[str, ...], year: int, month: int, as_of: float,
                   history: History, inflow_months: int = INFLOW_MONTHS,
                   group_of: Callable[[str], str] | None = None) -> dict[str, float]:
    """SEK from the day after ``month`` to 31 December for one activity's running and expected
    new placements and consultants. ``owns(unit)`` says which units belong to the activity,
    ``group_of(unit)`` which group of durations a unit's placements belong to."""
    group_of = group_of or (lambda unit: "")
    lo = local_day(as_of) + 1
    hi = date(year + 1, 1, 1).toordinal()
    remaining = max(hi - lo, 0)
    window_lo = months_back(year, month, inflow_months).toordinal()
    window_days = lo - window_lo
    running_p = []
    starts_p: dict[tuple[str, str], list[float]] = {}
    survivals: dict[tuple[str, str], Survival] = {}

    def survival(key: tuple[str, str]) -> Survival:
        if key not in survivals:
            survivals[key] = history.placement_survival(key[1], key[0])
        return survivals[key]

    if "placeringar" in sources:
        for case in facts:
            for p in case.placements:
                if not owns(p.unit) or p.started > as_of:
                    continue
                started = local_day(p.started)
                key = (group_of(p.unit), p.placement_type)
                if p.ended is None or p.ended > as_of:
                    cost = next((c for ts, c in reversed(p.costs) if ts <= as_of), p.costs[0][1])
                    horizon = remaining
                    if p.legal_basis == "lvm":
                        horizon = min(horizon, max(lvm_last_day(p.started) - lo, 0))
                    running_p.append(cost * survival(key).days_left(lo - started, horizon))
                if window_lo <= started < lo:
                    starts_p.setdefault(key, []).append(p.costs[0][1])

    def expected_new(starts: list[float], surv: Survival, days: int) -> float:
        if not starts or remaining <= 0:
            return 0.0
        return len(starts) / days * (fsum(starts) / len(starts)) * surv.days_of_new(remaining)

    new_p = fsum(expected_new(costs, survival(key), window_days) for key, costs in starts_p.items())
    level, hired = 0.0, 0
    if "konsulter" in sources:
        first = history.first_staff_day if history.first_staff_day is not None else lo
        level, hired = consultant_level(facts, owns, as_of, first, CONSULTANT_LEVEL_MONTHS)
    return {
        "aterstaende_dagar": remaining,
        "pagaende_placeringar": fsum(running_p),
        "nya_placeringar": new_p,
        # the posts' level goes on: running contracts and the ones that follow them
        "pagaende_konsulter": level * remaining,
        "starter_placeringar": sum(len(v) for v in starts_p.values()),
        "starter_konsulter": hired,
        "inflodesfonster_manader": inflow_months,
    }
