"""The KPIs of CONTRACT.md §4 as pure functions of facts, ``as_of`` and a period.

Every figure reads items *at* ``as_of``: an instant later than ``as_of`` counts as not yet
happened. Sums of money and FTE use ``math.fsum``, which is exactly rounded and so independent
of the order items arrive in: the replay and the streaming exporter agree to the last bit.
"""
from __future__ import annotations

from collections import defaultdict
from math import fsum
from typing import Iterable

from .clocks import DEFAULT_CLOCKS, Clocks
from .facts import (
    ApplicationItem, CaseFacts, DecisionItem, InvestigationItem, PaymentItem, PlacementItem,
    ReportItem, StaffItem,
)
from .period import Period
from .timeutil import local_day
from .units import Custody, UnitItems, earliest_item, group_by_unit

# Period lives in period.py; importing it from here, as most callers do, keeps working.
__all__ = ["KPI_KEYS", "Period", "UnitItems", "compute", "earliest_item", "group_by_unit", "unit_kpis"]

WEEK = 7 * 86400
INFLOW_BASELINE_WEEKS = 12


def _at(instant: float | None, as_of: float) -> float | None:
    """``instant`` as known at ``as_of``: a later instant has not happened yet."""
    return instant if instant is not None and instant <= as_of else None


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def _positive(mapping: dict[str, float]) -> dict[str, float]:
    return {k: mapping[k] for k in sorted(mapping) if mapping[k]}


# --- families -----------------------------------------------------------------------------------
# Case items come as (item, custody) pairs (see units.py): custody None means always in the unit.


def report_kpis(reports: Iterable[tuple[ReportItem, Custody | None]], as_of: float, period: Period,
                clocks: Clocks) -> dict:
    awaiting = screening_overdue = screening_due_soon = protection_overdue = 0
    received_in_period = last_7d = baseline = 0
    protection_done = protection_within = screenings_done = screenings_within = 0
    p_start, p_end = period.start_ts, period.end_ts
    week_ago, baseline_start = as_of - WEEK, as_of - (INFLOW_BASELINE_WEEKS + 1) * WEEK
    for r, c in reports:
        received = r.received
        if received > as_of:
            continue
        if c is None or c.holds(received):
            if p_start <= received < p_end:
                received_in_period += 1
            if received > week_ago:
                last_7d += 1
            elif received > baseline_start:
                baseline += 1
        # The protection clock ends with the first assessment or screening (CONTRACT.md §3).
        resolved = r.protected if r.screened is None or (r.protected is not None and r.protected < r.screened) \
            else r.screened
        if resolved is not None and p_start <= resolved < p_end and resolved <= as_of \
                and (c is None or c.holds(resolved)):
            protection_done += 1
            if resolved <= clocks.protection.deadline(received):
                protection_within += 1
        screened = _at(r.screened, as_of)
        if screened is not None:
            if p_start <= screened < p_end and (c is None or c.holds(screened)):
                screenings_done += 1
                if screened <= clocks.screening.deadline(received):
                    screenings_within += 1
            continue
        if c is not None and not c.holds(as_of):
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
        "protection_assessments_done": protection_done,
        "protection_assessments_done_within_limit": protection_within,
        "screenings_done": screenings_done,
        "screenings_done_within_limit": screenings_within,
    }


def investigation_base_due(item: InvestigationItem, clocks: Clocks) -> float:
    """The deadline before the episode's own extensions: the previous episode's when linked."""
    if item.inherited_due is not None:
        return item.inherited_due
    return clocks.investigation.deadline(item.opened if item.clock_start is None else item.clock_start)


def investigation_due(item: InvestigationItem, as_of: float, clocks: Clocks) -> float | None:
    """The deadline in force at ``as_of``: the latest extension decided by then, else the 4-month
    clock (of the chain's first episode when linked); None for an investigation not about a child."""
    if not item.child:
        return None
    due = None
    for decided, new_due in item.extensions:
        if decided <= as_of:
            due = new_due
    return investigation_base_due(item, clocks) if due is None else due


def investigation_kpis(items: Iterable[tuple[InvestigationItem, Custody | None]], as_of: float, period: Period,
                       clocks: Clocks) -> dict:
    open_ = overdue = due_soon = linked = 0
    durations: list[int] = []
    child_durations: list[int] = []
    child_within = 0
    p_start, p_end = period.start_ts, period.end_ts
    for inv, c in items:
        if inv.opened > as_of:
            continue
        closed = _at(inv.closed, as_of)
        if closed is not None:
            if p_start <= closed < p_end and (c is None or c.holds(closed)):
                days = local_day(closed) - local_day(inv.opened)
                durations.append(days)
                if inv.child:
                    child_durations.append(days)
                    if closed <= investigation_due(inv, closed, clocks):
                        child_within += 1
            continue
        if c is not None and not c.holds(as_of):
            continue
        open_ += 1
        if not inv.child:
            continue  # no legal deadline (CONTRACT.md §3)
        if inv.clock_start is not None:
            linked += 1
        due = investigation_due(inv, as_of, clocks)
        if as_of > due:
            overdue += 1
        elif as_of > clocks.investigation.warning_from(due):
            due_soon += 1
    return {
        "investigations_open": open_,
        "investigations_overdue": overdue,
        "investigations_due_soon": due_soon,
        "investigations_linked_open": linked,
        "investigations_closed": len(durations),
        "investigation_days_mean": _mean(durations),
        "child_investigations_closed": len(child_durations),
        "child_investigations_closed_within_limit": child_within,
        "child_investigation_days_mean": _mean(child_durations),
    }


def decision_kpis(items: Iterable[tuple[DecisionItem, Custody | None]], as_of: float, period: Period,
                  clocks: Clocks) -> dict:
    waiting = reportable = due_soon = enforced_n = enforced_within = interrupted = interrupted_reportable = 0
    p_start, p_end = period.start_ts, period.end_ts
    for d, c in items:
        if d.made > as_of:
            continue
        enforced = d.enforced
        if enforced is not None and p_start <= enforced < p_end and enforced <= as_of \
                and (c is None or c.holds(enforced)):
            enforced_n += 1
            if enforced <= clocks.enforcement.deadline(d.made):
                enforced_within += 1
        here = c is None or c.holds(as_of)
        sol = d.legal_basis == "sol"  # LVU and LVM are not bistånd: never reportable
        if d.interruptions and here:
            for start, end, _how in d.interruptions:
                if start <= as_of and (end is None or end > as_of):
                    interrupted += 1
                    if sol and as_of > clocks.enforcement.deadline(start):
                        interrupted_reportable += 1
        if not here or _at(d.resolved, as_of) is not None:
            continue
        waiting += 1
        if not sol:
            continue
        limit = clocks.enforcement.deadline(d.made)
        if as_of > limit:
            reportable += 1
        elif as_of > clocks.enforcement.warning_from(limit):
            due_soon += 1
    return {
        "decisions_not_enforced": waiting, "decisions_reportable": reportable, "decisions_due_soon": due_soon,
        "enforcements_interrupted": interrupted, "interruptions_reportable": interrupted_reportable,
        "decisions_enforced": enforced_n, "decisions_enforced_within_limit": enforced_within,
    }


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


def placement_kpis(items: Iterable[tuple[PlacementItem, Custody | None]], as_of: float, period: Period) -> dict:
    active: dict[str, int] = defaultdict(int)
    by_basis: dict[str, int] = defaultdict(int)
    days: dict[str, int] = defaultdict(int)
    costs: dict[str, list[float]] = defaultdict(list)
    for p, c in items:
        if p.started > as_of:
            continue
        ended = _at(p.ended, as_of)
        if ended is None and (c is None or c.holds(as_of)):
            active[p.placement_type] += 1
            by_basis[p.legal_basis] += 1
        lo, hi = _active_days(local_day(p.started), None if ended is None else local_day(ended), period)
        if hi > lo:
            for a, b in ((lo, hi),) if c is None else c.day_ranges(lo, hi, as_of):
                days[p.placement_type] += b - a
                costs[p.placement_type].append(placement_cost(p, as_of, a, b))
    return {
        "placements_active": _positive(active),
        "placements_active_by_legal_basis": _positive(by_basis),
        "placement_days": _positive(days),
        "placement_cost_sek": _positive({t: fsum(c) for t, c in costs.items()}),
        "placements_mean": _positive({t: n / period.days for t, n in days.items()}),
    }


def staff_kpis(items: Iterable[StaffItem], as_of: float, period: Period) -> tuple[dict, float]:
    """Staffing figures, and the FTE of active social workers (for the caseload)."""
    fte: dict[str, list[float]] = defaultdict(list)
    social_workers: list[float] = []
    consultant_costs: list[float] = []
    permanent_days = permanent_left = 0
    p_start, p_end = period.start_ts, period.end_ts
    for s in items:
        if s.joined > as_of:
            continue
        left = _at(s.left, as_of)
        if left is None:
            fte[s.employment].append(s.fte)
            if s.role == "socialsekreterare":
                social_workers.append(s.fte)
        lo, hi = _active_days(local_day(s.joined), None if left is None else local_day(left), period)
        if s.employment == "permanent":
            if hi > lo:
                permanent_days += hi - lo
            if left is not None and p_start <= left < p_end:
                permanent_left += 1
        elif s.daily_cost_sek and hi > lo:
            consultant_costs.append(s.daily_cost_sek * (hi - lo))
    sums = {k: fsum(v) for k, v in fte.items()}
    total = fsum([x for v in fte.values() for x in v])
    return {
        "staff_active": _positive(sums),
        "consultant_share": sums.get("consultant", 0.0) / total if total else 0.0,
        "consultant_cost_sek": fsum(consultant_costs),
        "permanent_staff_left": permanent_left,
        "permanent_staff_mean": permanent_days / period.days,
    }, fsum(social_workers)


def application_kpis(items: Iterable[tuple[ApplicationItem, Custody | None]], as_of: float, period: Period) -> dict:
    waits: list[int] = []
    new_waits: list[int] = []
    p_start, p_end = period.start_ts, period.end_ts
    for a, c in items:
        decided = _at(a.decided, as_of)
        if decided is not None and a.received <= as_of and p_start <= decided < p_end \
                and (c is None or c.holds(decided)):
            wait = local_day(decided) - local_day(a.received)
            waits.append(wait)
            if a.new_applicant:
                new_waits.append(wait)
    return {"application_wait_days_mean": _mean(waits), "new_applicant_wait_days_mean": _mean(new_waits)}


def payment_kpis(cases: Iterable[tuple[Custody | None, tuple[PaymentItem, ...]]], as_of: float,
                 period: Period) -> dict:
    p_start, p_end = period.start_ts, period.end_ts
    amounts: list[float] = []
    households = 0
    for c, payments in cases:
        paid_here = [p.amount_sek for p in payments
                     if p_start <= p.paid < p_end and p.paid <= as_of and (c is None or c.holds(p.paid))]
        if paid_here:
            households += 1
            amounts.extend(paid_here)
    return {"payments_sek": fsum(amounts), "households_paid": households}


def transfer_kpis(items: UnitItems, as_of: float, period: Period) -> dict:
    p_start, p_end = period.start_ts, period.end_ts
    return {
        "transfers_in": sum(1 for t in items.transfers_in if p_start <= t < p_end and t <= as_of),
        "transfers_out": sum(1 for t in items.transfers_out if p_start <= t < p_end and t <= as_of),
    }


# --- per unit -------------------------------------------------------------------------------------

KPI_KEYS = (
    # point in time (CONTRACT.md §4)
    "reports_awaiting_screening", "reports_screening_overdue", "protection_assessments_overdue",
    "investigations_open", "investigations_overdue", "investigations_linked_open",
    "decisions_not_enforced", "decisions_reportable", "enforcements_interrupted", "interruptions_reportable",
    "placements_active", "staff_active", "consultant_share", "caseload_per_social_worker",
    # over the period (CONTRACT.md §4)
    "reports_received", "investigations_closed", "investigation_days_mean", "application_wait_days_mean",
    "placement_days", "placement_cost_sek", "placements_mean", "consultant_cost_sek", "payments_sek",
    "households_paid", "new_applicant_wait_days_mean",
    "protection_assessments_done", "protection_assessments_done_within_limit",
    "screenings_done", "screenings_done_within_limit",
    "child_investigations_closed", "child_investigations_closed_within_limit", "child_investigation_days_mean",
    "decisions_enforced", "decisions_enforced_within_limit", "transfers_in", "transfers_out",
    "permanent_staff_left", "permanent_staff_mean",
    # extensions: early warnings, the inflow baseline, placements by legal basis
    "reports_screening_due_soon", "investigations_due_soon", "decisions_due_soon",
    "reports_received_last_7d", "reports_received_weekly_mean_12w", "placements_active_by_legal_basis",
)


def unit_kpis(items: UnitItems, as_of: float, period: Period, clocks: Clocks = DEFAULT_CLOCKS) -> dict:
    figures: dict = {}
    figures.update(report_kpis(items.reports, as_of, period, clocks))
    figures.update(investigation_kpis(items.investigations, as_of, period, clocks))
    figures.update(decision_kpis(items.decisions, as_of, period, clocks))
    figures.update(placement_kpis(items.placements, as_of, period))
    staffing, social_worker_fte = staff_kpis(items.staff, as_of, period)
    figures.update(staffing)
    figures.update(application_kpis(items.applications, as_of, period))
    figures.update(payment_kpis(items.payments, as_of, period))
    figures.update(transfer_kpis(items, as_of, period))
    figures["caseload_per_social_worker"] = (
        figures["investigations_open"] / social_worker_fte if social_worker_fte else None
    )
    return {key: figures[key] for key in KPI_KEYS}


def compute(facts: Iterable[CaseFacts], as_of: float, period: Period | None = None,
            clocks: Clocks = DEFAULT_CLOCKS) -> dict[str, dict[str, dict]]:
    """``{municipality: {unit: {kpi: value}}}`` for every unit an event names at or before ``as_of``."""
    period = period or Period.month_to_date(as_of)
    out: dict[str, dict[str, dict]] = {}
    for (municipality, unit), items in sorted(group_by_unit(facts).items()):
        if items.named > as_of:
            continue
        out.setdefault(municipality, {})[unit] = unit_kpis(items, as_of, period, clocks)
    return out
