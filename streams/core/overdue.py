"""Since when a unit has been late: the instant its oldest overdue item passed its deadline.

An on-call social worker needs "which unit, how many, and since when" (docs/DOMAIN.md). The
counts are KPIs (:mod:`streams.core.kpis`); this module gives the *since when* for each legal
clock: the earliest deadline among the items overdue at ``as_of``, or ``None`` when nothing is.
It is an instant, never an item: no case id leaves the core through it.

The overdue predicate is the KPI's own (the same deadline functions, the same strict ``>``), and
``tests/unit/test_overdue.py`` checks on simulated data that a clock has an instant exactly when
its KPI count is above zero, so the two cannot drift apart.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from .clocks import DEFAULT_CLOCKS, Clocks
from .facts import DecisionItem, InvestigationItem, ReportItem
from .kpis import UnitItems, _at, investigation_due

# clock name (the metric's ``clock`` label) -> the KPI whose count it dates
CLOCK_KPIS: Mapping[str, str] = {
    "protection": "protection_assessments_overdue",
    "screening": "reports_screening_overdue",
    "investigation": "investigations_overdue",
    "enforcement": "decisions_reportable",
}


def _oldest(deadlines: Iterable[float], as_of: float) -> float | None:
    return min((due for due in deadlines if as_of > due), default=None)


def _protection(reports: Iterable[ReportItem], as_of: float, clocks: Clocks) -> Iterable[float]:
    for r in reports:
        if r.received <= as_of and _at(r.screened, as_of) is None and _at(r.protected, as_of) is None:
            yield clocks.protection.deadline(r.received)


def _screening(reports: Iterable[ReportItem], as_of: float, clocks: Clocks) -> Iterable[float]:
    for r in reports:
        if r.received <= as_of and _at(r.screened, as_of) is None:
            yield clocks.screening.deadline(r.received)


def _investigation(items: Iterable[InvestigationItem], as_of: float, clocks: Clocks) -> Iterable[float]:
    for inv in items:
        if inv.opened <= as_of and _at(inv.closed, as_of) is None:
            yield investigation_due(inv, as_of, clocks)


def _enforcement(items: Iterable[DecisionItem], as_of: float, clocks: Clocks) -> Iterable[float]:
    for d in items:
        if d.made <= as_of and _at(d.resolved, as_of) is None:
            yield clocks.enforcement.deadline(d.made)


def oldest_overdue(items: UnitItems, as_of: float, clocks: Clocks = DEFAULT_CLOCKS) -> dict[str, float | None]:
    """``{clock: the earliest deadline passed by an item still overdue at as_of, or None}``."""
    return {
        "protection": _oldest(_protection(items.reports, as_of, clocks), as_of),
        "screening": _oldest(_screening(items.reports, as_of, clocks), as_of),
        "investigation": _oldest(_investigation(items.investigations, as_of, clocks), as_of),
        "enforcement": _oldest(_enforcement(items.decisions, as_of, clocks), as_of),
    }
