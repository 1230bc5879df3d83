"""The instants at which a unit's figures can change (for readers that cache them).

Each comparison with ``as_of`` in :mod:`streams.core.kpis` changes its outcome only when
``as_of`` reaches one of these instants, so figures computed at ``t`` hold for every ``as_of`` in
``[t, next)``, ``next`` the first instant at or after ``t``: the exporter reuses a unit's samples
until then. Listing an instant too many costs a recomputation; missing one would show a stale
figure, so every instant a KPI compares ``as_of`` with is here (a property test checks it).
"""
from __future__ import annotations

from .clocks import DEFAULT_CLOCKS, Clocks
from .kpis import INFLOW_BASELINE_WEEKS, WEEK, investigation_base_due
from .units import UnitItems


def change_instants(items: UnitItems, clocks: Clocks = DEFAULT_CLOCKS, since: float = float("-inf")) -> list[float]:
    """Every instant from ``since`` on at which a figure of :func:`unit_kpis` can change,
    ascending, for a fixed period (the period is the caller's: month to date moves at local
    midnight). A reader whose clock only moves forward needs none before its first reading."""
    out: list[float] = []
    add = out.append
    baseline = (INFLOW_BASELINE_WEEKS + 1) * WEEK
    for r, _c in items.reports:
        add(r.received)
        add(r.received + WEEK)
        add(r.received + baseline)
        due = clocks.screening.deadline(r.received)
        add(due)
        add(clocks.protection.deadline(r.received))
        for instant in (r.screened, r.protected, clocks.screening.warning_from(due)):
            if instant is not None:
                add(instant)
    for inv, _c in items.investigations:
        add(inv.opened)
        if inv.closed is not None:
            add(inv.closed)
        if not inv.child:
            continue  # no deadline, no warning
        dues = [investigation_base_due(inv, clocks)]
        for decided, new_due in inv.extensions:
            add(decided)
            dues.append(new_due)
        for due in dues:
            add(due)
            warning = clocks.investigation.warning_from(due)
            if warning is not None:
                add(warning)
    for d, _c in items.decisions:
        add(d.made)
        limit = clocks.enforcement.deadline(d.made)
        add(limit)
        for instant in (d.resolved, d.enforced, clocks.enforcement.warning_from(limit)):
            if instant is not None:
                add(instant)
        for start, end, _how in d.interruptions:
            add(start)
            add(clocks.enforcement.deadline(start))
            if end is not None:
                add(end)
    for p, _c in items.placements:
        add(p.started)
        if p.ended is not None:
            add(p.ended)
        out.extend(ts for ts, _cost in p.costs)
    for s in items.staff:
        add(s.joined)
        if s.left is not None:
            add(s.left)
    for a, _c in items.applications:
        add(a.received)
        if a.decided is not None:
            add(a.decided)
    for _c, payments in items.payments:
        out.extend(p.paid for p in payments)
    out.extend(items.transfers_in)
    out.extend(items.transfers_out)
    for custody in items.custodies():  # a transfer moves a case's figures in or out of the unit
        out.extend(custody.instants)
    return sorted(x for x in out if x >= since)
