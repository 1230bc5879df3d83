"""The collector's cache: per municipality its units, per unit its facts and computed samples.

A unit's samples computed at ``computed_at`` are exact for every ``as_of`` in
``[computed_at, valid_until)`` under the same facts, thresholds and display name:
``valid_until`` is the unit's next change instant (:func:`streams.core.changes.change_instants`)
or the next local midnight (the month to date moves), whichever comes first. :func:`compute`
is pure in the unit's items, so it may run ahead of time, outside the collector's lock, for an
``as_of`` still to come (:meth:`KpiCollector.prepare`): the scrape that reaches that instant
then only swaps the samples in.
"""
from __future__ import annotations

import math
import operator
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable

from streams.core.clocks import Clocks
from streams.core.facts import CaseFacts
from streams.core.ivo import due_this_quarter
from streams.core.changes import change_instants
from streams.core.kpis import Period, UnitItems, staff_kpis, unit_kpis
from streams.core.overdue import oldest_overdue
from streams.core.timeutil import day_start, local_day, month_bounds
from streams.thresholds import Thresholds

from .metrics import UnitSample, render_samples, unit_samples


AHEAD_STEP_S = 0.001  # how far into the next interval samples are computed ahead


@dataclass(slots=True)
class Computed:
    """One unit's samples as of ``computed_at``, good while as_of < ``valid_until`` under the
    same thresholds; ``text`` their exposition lines per family, rendered on first use."""
    samples: list[UnitSample]
    computed_at: float
    valid_until: float
    thresholds: Thresholds | None
    name: str | None  # the display name the samples were computed with
    text: dict[str, bytes] | None = None

    def covers(self, as_of: float, thresholds: Thresholds) -> bool:
        return self.computed_at <= as_of < self.valid_until and self.thresholds is thresholds

    def lines(self) -> dict[str, bytes]:
        if self.text is None:
            self.text = {name: text.encode() for name, text in render_samples(self.samples).items()}
        return self.text


@dataclass(slots=True)
class Unit:
    items: UnitItems | None  # None: adopted from a snapshot, its municipality's facts not parsed yet
    earliest: float  # the first instant any item of the unit happened: before it the unit does not exist
    # (since, change_instants(items, since=since)), on first use; one tuple, so that the
    # preparing thread and a scrape never pair one list with another's ``since``
    instants: tuple[float, list[float]] | None = None
    now: Computed | None = None  # the samples served
    ahead: Computed | None = None  # the samples of the interval after ``now``, computed ahead of time
    name: str | None = None  # the display name of the last samples (kept from a snapshot, too)

    def current(self, as_of: float, thresholds: Thresholds) -> bool:
        return self.now is not None and self.now.covers(as_of, thresholds)

    def next_instant(self, as_of: float, clocks: Clocks, strictly: bool = False) -> float:
        """The first instant at (or, ``strictly``, after) ``as_of`` at which one of the unit's
        figures can change: figures computed at ``t`` hold on ``[t, next_instant(t))``; at an
        instant itself a figure may differ from just after it (``deadline < as_of``)."""
        instants = self.instants
        if instants is None or as_of < instants[0]:  # a clock set back (what-ifs, tests)
            instants = self.instants = (as_of, change_instants(self.items, clocks, since=as_of))
        found = instants[1]
        upcoming = (bisect_right if strictly else bisect_left)(found, as_of)
        return found[upcoming] if upcoming < len(found) else math.inf

    def ahead_instant(self, expires: float, clocks: Clocks) -> float:
        """The first instant of the interval that follows ``expires`` (the end of the current
        samples' interval) from which samples hold to that interval's end: ``expires`` itself
        unless a figure can change there (local midnight: month to date moves at it); else just
        after it, as the figures are the same at every instant of ``(expires, next)``."""
        if self.next_instant(expires, clocks) > expires:
            return expires
        after = self.next_instant(expires, clocks, strictly=True)
        return expires + min(AHEAD_STEP_S, (after - expires) / 2)


@dataclass(slots=True)
class Municipality:
    version: Hashable
    cases: int
    units: dict[str, Unit]
    raw: dict | None = None  # case_id -> (stored bytes, parsed facts), for incremental re-reads
    # The units exposed at the last scrape and, per family, their exposition lines joined (text.py;
    # built on first use, dropped when a unit's samples change or another set of units is exposed).
    exposed: list[Unit] | None = None
    chunks: dict[str, bytes] | None = None


def compute(entry: Unit, municipality: str, unit: str, as_of: float, thresholds: Thresholds, clocks: Clocks,
            display_names: Callable[[str, str], str | None] | None) -> Computed:
    """The unit's samples at ``as_of`` (its items must be parsed) and until when they hold."""
    items = entry.items
    period = Period.month_to_date(as_of)
    month_start, month_end = month_bounds(period.start)
    elapsed = period.days / (month_end - month_start)
    today = local_day(as_of)
    name = display_names(municipality, unit) if display_names else None
    figures = unit_kpis(items, as_of, period, clocks)
    # Staff over the last 365 days: changes only at staff events and at midnight, as the rest.
    rolling, _ = staff_kpis(items.staff, as_of, Period(today - 364, today + 1))
    samples = list(unit_samples(municipality, unit, figures, thresholds.for_unit(municipality, unit),
                                thresholds.budget_month_sek(municipality, unit), elapsed,
                                oldest_overdue(items, as_of, clocks), name, rolling,
                                due_this_quarter(items.decisions, as_of, clocks)))
    valid_until = min(entry.next_instant(as_of, clocks), day_start(today + 1))
    return Computed(samples, as_of, valid_until, thresholds, name)


def units_named(facts: Iterable[CaseFacts]) -> set[str]:
    """Every unit the facts can give items to (streams.core.units.group_by_unit): the units of
    their items, staff, transfers and named units."""
    found: set[str] = set()
    for case in facts:
        for family in case[1:8]:
            found.update(item.unit for item in family)
        found.update(t.unit for t in case.transfers)
        found.update(t.from_unit for t in case.transfers)
        found.update(n.unit for n in case.units)
    return found


def same(these: list, those: list | None) -> bool:
    """Whether two lists hold the same objects (identity: a dataclass's == compares its fields)."""
    return those is not None and len(these) == len(those) and all(map(operator.is_, these, those))

