"""The KPIs of CONTRACT.md §4 as pure functions of facts, ``as_of`` and a period.

Every figure reads items *at* ``as_of``: an instant later than ``as_of`` counts as not yet
happened. Sums of money and FTE use ``math.fsum``, which is exactly rounded and so independent
of the order items arrive in: the replay and the streaming exporter agree to the last bit.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from math import fsum
from typing import Iterable

from .clocks import DEFAULT_CLOCKS, Clocks
from .facts import (
    ApplicationItem, CaseFacts, DecisionItem, InvestigationItem, PaymentItem, PlacementItem,
    ReportItem, StaffItem,
)
from .timeutil import day_start, local_day, month_bounds

WEEK = 7 * 86400
INFLOW_BASELINE_WEEKS = 12


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days ``[start, end)`` as date ordinals."""

    start: int
    end: int

    @classmethod
    def of_dates(cls, start: date, end: date) -> "Period":
        if end <= start:
            raise ValueError("the period must end after it starts")
        return cls(start.toordinal(), end.toordinal())

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        first = date(year, month, 1).toordinal()
        return cls(*month_bounds(first))

    @classmethod
    def month_to_date(cls, as_of: float) -> "Period":
        """The contract's default: the month containing ``as_of``, through ``as_of``'s date."""
        day = local_day(as_of)
        return cls(month_bounds(day)[0], day + 1)

    @property
    def days(self) -> int:
        return self.end - self.start

    @property
    def start_ts(self) -> float:
        return day_start(self.start)

    @property
    def end_ts(self) -> float:
        return day_start(self.end)

    def as_json(self) -> dict:
        return {"from": date.fromordinal(self.start).isoformat(), "to": date.fromordinal(self.end).isoformat()}


def _at(instant: float | None, as_of: float) -> float | None:
    """``instant`` as known at ``as_of``: a later instant has not happened yet."""
    return instant if instant is not None and instant <= as_of else None


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def _positive(mapping: dict[str, float]) -> dict[str, float]:
    return {k: mapping[k] for k in sorted(mapping) if mapping[k]}


# --- families -----------------------------------------------------------------------------------


def report_kpis(reports: Iterable[ReportItem], as_of: float, period: Period, clocks: Clocks) -> dict:
    awaiting = screening_overdue = screening_due_soon = protection_overdue = 0
    received_in_period = last_7d = baseline = 0
    p_start, p_end = period.start_ts, period.end_ts
    week_ago, baseline_start = as_of - WEEK, as_of - (INFLOW_BASELINE_WEEKS + 1) * WEEK
    for r in reports:
        received = r.received
        if received > as_of:
            continue
        if p_start <= received < p_end:
            received_in_period += 1
        if received > week_ago:
            last_7d += 1
        elif received > baseline_start:
            baseline += 1
        if _at(r.screened, as_of) is not None:
            continue
        awaiting += 1
        due = clocks.screening.deadline(received)
        if as_of > due:
            screening_overdue += 1
        elif as_of > clocks.screening.warning_from(due):
            screening_due_soon += 1
        if _at(r.protected, as_of) is None and as_of > clocks.protection.deadline(received):
            protection_overdue += 1
    return {
        "reports_awaiting_screening": awaiting,
        "reports_screening_overdue": screening_overdue,
        "reports_screening_due_soon": screening_due_soon,
        "protection_assessments_overdue": protection_overdue,
        "reports_received": received_in_period,
        "reports_received_last_7d": last_7d,
        "reports_received_weekly_mean_12w": baseline / INFLOW_BASELINE_WEEKS,
    }


def investigation_due(item: InvestigationItem, as_of: float, clocks: Clocks) -> float:
    """The deadline in force at ``as_of``: the latest extension decided by then, else 4 months."""
    due = None
    for decided, new_due in item.extensions:
        if decided <= as_of:
            due = new_due
    return clocks.investigation.deadline(item.opened) if due is None else due


def investigation_kpis(items: Iterable[InvestigationItem], as_of: float, period: Period, clocks: Clocks) -> dict:
    open_ = overdue = due_soon = 0
    durations: list[int] = []
    p_start, p_end = period.start_ts, period.end_ts
    for inv in items:
        if inv.opened > as_of:
            continue
        closed = _at(inv.closed, as_of)
        if closed is not None:
            if p_start <= closed < p_end:
                durations.append(local_day(closed) - local_day(inv.opened))
            continue
        open_ += 1
        due = investigation_due(inv, as_of, clocks)
        if as_of > due:
            overdue += 1
        elif as_of > clocks.investigation.warning_from(due):
            due_soon += 1
    return {
        "investigations_open": open_,
        "investigations_overdue": overdue,
        "investigations_due_soon": due_soon,
        "investigations_closed": len(durations),
        "investigation_days_mean": _mean(durations),
    }


def decision_kpis(items: Iterable[DecisionItem], as_of: float, clocks: Clocks) -> dict:
    waiting = reportable = due_soon = 0
    for d in items:
        if d.made > as_of or _at(d.resolved, as_of) is not None:
            continue
        waiting += 1
        limit = clocks.enforcement.deadline(d.made)
        if as_of > limit:
            reportable += 1
        elif as_of > clocks.enforcement.warning_from(limit):
            due_soon += 1
    return {"decisions_not_enforced": waiting, "decisions_reportable": reportable, "decisions_due_soon": due_soon}


def _active_days(first: int, end: int | None, period: Period) -> tuple[int, int]:
    """``[first, end) ∩ period`` as a (start, stop) pair of day ordinals, possibly empty."""
    return max(first, period.start), period.end if end is None else min(end, period.end)


def placement_cost(item: PlacementItem, as_of: float, lo: int, hi: int) -> float:
    """Σ of each day's cost over days ``[lo, hi)``; a cost change applies from its own date."""
    schedule = sorted((local_day(ts), ts, cost) for ts, cost in item.costs if ts <= as_of)
    total = []
    for i, (day, _ts, cost) in enumerate(schedule):
        seg_end = schedule[i + 1][0] if i + 1 < len(schedule) else hi
        a, b = max(day, lo), min(seg_end, hi)
        if b > a:
            total.append(cost * (b - a))
    return fsum(total)


def placement_kpis(items: Iterable[PlacementItem], as_of: float, period: Period) -> dict:
    active: dict[str, int] = defaultdict(int)
    days: dict[str, int] = defaultdict(int)
    costs: dict[str, list[float]] = defaultdict(list)
    for p in items:
        if p.started > as_of:
            continue
        ended = _at(p.ended, as_of)
        if ended is None:
            active[p.placement_type] += 1
        lo, hi = _active_days(local_day(p.started), None if ended is None else local_day(ended), period)
        if hi > lo:
            days[p.placement_type] += hi - lo
            costs[p.placement_type].append(placement_cost(p, as_of, lo, hi))
    return {
        "placements_active": _positive(active),
        "placement_days": _positive(days),
        "placement_cost_sek": _positive({t: fsum(c) for t, c in costs.items()}),
        "placements_mean": _positive({t: n / period.days for t, n in days.items()}),
    }


def staff_kpis(items: Iterable[StaffItem], as_of: float, period: Period) -> tuple[dict, float]:
    """Staffing figures, and the FTE of active social workers (for the caseload)."""
    fte: dict[str, list[float]] = defaultdict(list)
    social_workers: list[float] = []
    consultant_costs: list[float] = []
    for s in items:
        if s.joined > as_of:
            continue
        left = _at(s.left, as_of)
        if left is None:
            fte[s.employment].append(s.fte)
            if s.role == "socialsekreterare":
                social_workers.append(s.fte)
        if s.employment == "consultant" and s.daily_cost_sek:
            lo, hi = _active_days(local_day(s.joined), None if left is None else local_day(left), period)
            if hi > lo:
                consultant_costs.append(s.daily_cost_sek * (hi - lo))
    sums = {k: fsum(v) for k, v in fte.items()}
    total = fsum([x for v in fte.values() for x in v])
    return {
        "staff_active": _positive(sums),
        "consultant_share": sums.get("consultant", 0.0) / total if total else 0.0,
        "consultant_cost_sek": fsum(consultant_costs),
    }, fsum(social_workers)


def application_kpis(items: Iterable[ApplicationItem], as_of: float, period: Period) -> dict:
    waits: list[int] = []
    p_start, p_end = period.start_ts, period.end_ts
    for a in items:
        decided = _at(a.decided, as_of)
        if decided is not None and a.received <= as_of and p_start <= decided < p_end:
            waits.append(local_day(decided) - local_day(a.received))
    return {"application_wait_days_mean": _mean(waits)}


def payment_kpis(items: Iterable[PaymentItem], as_of: float, period: Period) -> dict:
    p_start, p_end = period.start_ts, period.end_ts
    amounts = [p.amount_sek for p in items if p_start <= p.paid < p_end and p.paid <= as_of]
    return {"payments_sek": fsum(amounts)}


# --- per unit -------------------------------------------------------------------------------------

KPI_KEYS = (
    # point in time (CONTRACT.md §4)
    "reports_awaiting_screening", "reports_screening_overdue", "protection_assessments_overdue",
    "investigations_open", "investigations_overdue", "decisions_not_enforced", "decisions_reportable",
    "placements_active", "staff_active", "consultant_share", "caseload_per_social_worker",
    # over the period (CONTRACT.md §4)
    "reports_received", "investigations_closed", "investigation_days_mean", "application_wait_days_mean",
    "placement_days", "placement_cost_sek", "placements_mean", "consultant_cost_sek", "payments_sek",
    # extensions: early warnings and the inflow baseline
    "reports_screening_due_soon", "investigations_due_soon", "decisions_due_soon",
    "reports_received_last_7d", "reports_received_weekly_mean_12w",
)


class UnitItems:
    """All items of one (municipality, unit), gathered from many cases."""

    __slots__ = ("reports", "investigations", "decisions", "placements", "applications", "payments", "staff")

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, [])


def unit_kpis(items: UnitItems, as_of: float, period: Period, clocks: Clocks = DEFAULT_CLOCKS) -> dict:
    figures: dict = {}
    figures.update(report_kpis(items.reports, as_of, period, clocks))
    figures.update(investigation_kpis(items.investigations, as_of, period, clocks))
    figures.update(decision_kpis(items.decisions, as_of, clocks))
    figures.update(placement_kpis(items.placements, as_of, period))
    staffing, social_worker_fte = staff_kpis(items.staff, as_of, period)
    figures.update(staffing)
    figures.update(application_kpis(items.applications, as_of, period))
    figures.update(payment_kpis(items.payments, as_of, period))
    figures["caseload_per_social_worker"] = (
        figures["investigations_open"] / social_worker_fte if social_worker_fte else None
    )
    return {key: figures[key] for key in KPI_KEYS}


_FAMILIES = UnitItems.__slots__


def group_by_unit(facts: Iterable[CaseFacts]) -> dict[tuple[str, str], UnitItems]:
    units: dict[tuple[str, str], UnitItems] = {}
    for case in facts:
        municipality = case.municipality
        for family, items in zip(_FAMILIES, case[1:]):
            for item in items:
                key = (municipality, item.unit)
                bucket = units.get(key)
                if bucket is None:
                    bucket = units[key] = UnitItems()
                getattr(bucket, family).append(item)
    return units


def compute(facts: Iterable[CaseFacts], as_of: float, period: Period | None = None,
            clocks: Clocks = DEFAULT_CLOCKS) -> dict[str, dict[str, dict]]:
    """``{municipality: {unit: {kpi: value}}}`` for every unit with an item at or before ``as_of``."""
    period = period or Period.month_to_date(as_of)
    out: dict[str, dict[str, dict]] = {}
    for (municipality, unit), items in sorted(group_by_unit(facts).items()):
        if earliest_item(items) > as_of:
            continue
        out.setdefault(municipality, {})[unit] = unit_kpis(items, as_of, period, clocks)
    return out


def earliest_item(items: UnitItems) -> float:
    """The first instant anything of the unit happened; before it the unit does not exist."""
    starts = [
        *(r.received for r in items.reports), *(i.opened for i in items.investigations),
        *(d.made for d in items.decisions), *(p.started for p in items.placements),
        *(a.received for a in items.applications), *(p.paid for p in items.payments),
        *(s.joined for s in items.staff),
    ]
    return min(starts, default=float("inf"))


def change_instants(items: UnitItems, clocks: Clocks = DEFAULT_CLOCKS, since: float = float("-inf")) -> list[float]:
    """Every instant from ``since`` on at which a figure of :func:`unit_kpis` can change,
    ascending, for a fixed period (the period is the caller's: month to date moves at local
    midnight). A reader whose clock only moves forward needs none before its first reading.

    Each comparison with ``as_of`` above changes its outcome only when ``as_of`` reaches one of
    these instants, so figures computed at ``t`` hold for every ``as_of`` in ``[t, next)``,
    ``next`` the first instant at or after ``t``: a reader can reuse them until then.
    """
    out: list[float] = []
    add = out.append
    baseline = (INFLOW_BASELINE_WEEKS + 1) * WEEK
    for r in items.reports:
        add(r.received)
        add(r.received + WEEK)
        add(r.received + baseline)
        due = clocks.screening.deadline(r.received)
        add(due)
        add(clocks.protection.deadline(r.received))
        for instant in (r.screened, r.protected, clocks.screening.warning_from(due)):
            if instant is not None:
                add(instant)
    for inv in items.investigations:
        add(inv.opened)
        dues = [clocks.investigation.deadline(inv.opened)]
        for decided, new_due in inv.extensions:
            add(decided)
            dues.append(new_due)
        for due in dues:
            add(due)
            warning = clocks.investigation.warning_from(due)
            if warning is not None:
                add(warning)
        if inv.closed is not None:
            add(inv.closed)
    for d in items.decisions:
        add(d.made)
        limit = clocks.enforcement.deadline(d.made)
        add(limit)
        for instant in (d.resolved, clocks.enforcement.warning_from(limit)):
            if instant is not None:
                add(instant)
    for p in items.placements:
        add(p.started)
        if p.ended is not None:
            add(p.ended)
        out.extend(ts for ts, _cost in p.costs)
    for s in items.staff:
        add(s.joined)
        if s.left is not None:
            add(s.left)
    for a in items.applications:
        add(a.received)
        if a.decided is not None:
            add(a.decided)
    out.extend(p.paid for p in items.payments)
    return sorted(x for x in out if x >= since)
