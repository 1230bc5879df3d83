"""The figures of a month, from the core: every one of them is what ``casewatch replay`` gives.

* Per unit: :meth:`Replay.result` at the month's last second over the calendar month, taken
  as it stands (the snapshot JSON stores it unchanged).
* Municipality-wide: the same core function (:func:`streams.core.kpis.compute`) over the
  municipality's facts with every item relabelled to one unit, so means, shares and the
  caseload are the core's own, not re-derived from unit figures.
* Weekly inflow: the core's :func:`report_kpis` over one week at a time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable, Iterator

from streams.core.clocks import DEFAULT_CLOCKS, Clocks
from streams.core.facts import CaseFacts
from streams.core.kpis import Period, compute, group_by_unit, report_kpis
from streams.core.replay import Replay, fast_replay
from streams.core.timeutil import day_start, format_ts, local_date

ALL_UNITS = "alla"


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        try:
            year, month = (int(x) for x in text.split("-"))
            date(year, month, 1)
        except ValueError:
            raise ValueError(f"ogiltig månad '{text}': ange ÅÅÅÅ-MM") from None
        return cls(year, month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def period(self) -> Period:
        return Period.month(self.year, self.month)

    @property
    def as_of(self) -> float:
        """The month's last second, local time (``2024-03-31T23:59:59+02:00``)."""
        return self.period.end_ts - 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date.fromordinal(self.period.end)

    def previous(self) -> "Month":
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def months_of_year(self) -> list["Month"]:
        """January of the same year through this month."""
        return [Month(self.year, m) for m in range(1, self.month + 1)]


def load_replay(events: Path | Iterable[bytes], registry=None, clocks: Clocks = DEFAULT_CLOCKS) -> Replay:
    """``registry``: the unit registry's pairs (CONTRACT.md §7) and ``clocks`` the configured ones
    (``Settings.clocks()``, its link window), so reports count what the worker counts."""
    replay = fast_replay(clocks, registry)
    if isinstance(events, (str, Path)):
        with open(events, "rb", buffering=1 << 20) as stream:
            replay.add_lines(stream)
    else:
        replay.add_lines(events)
    return replay


def municipalities(replay: Replay) -> list[str]:
    return sorted({m for m, _case in replay.cases})


def facts_of(replay: Replay, municipality: str, as_of: float) -> list[CaseFacts]:
    """The municipality's case facts folded at ``as_of`` (the core's fold, as the replay does)."""
    return [f for f in replay.facts(as_of) if f.municipality == municipality]


def as_one_unit(facts: Iterable[CaseFacts], unit: str = ALL_UNITS) -> Iterator[CaseFacts]:
    """The same facts with every item's unit set to ``unit``: the core then computes the
    municipality as one unit."""
    for case in facts:
        # A transfer between the municipality's own units moves nothing for the whole of it.
        yield CaseFacts(case.municipality, *(tuple(item._replace(unit=unit) for item in family)
                                             for family in case[1:8]), (),
                        tuple(named._replace(unit=unit) for named in case.units))


def unit_figures(replay: Replay, municipality: str, month: Month) -> dict:
    """``{unit: {kpi: value}}`` exactly as ``Replay.result(as_of=month end, period=month)``."""
    result = replay.result(month.as_of, month.period)
    return result["units"].get(municipality, {})


def municipality_figures(facts: list[CaseFacts], as_of: float, period: Period, clocks) -> dict:
    """The KPIs of the whole municipality (all units as one), by the core's ``compute``."""
    out = compute(as_one_unit(facts), as_of, period, clocks)
    for units in out.values():
        return units[ALL_UNITS]
    return {}


def investigating_units(facts: Iterable[CaseFacts]) -> set[str]:
    """Units that have opened an investigation: the caseload is theirs alone."""
    return {i.unit for case in facts for i in case.investigations}


def caseload_of_investigating_units(facts: list[CaseFacts], as_of: float, period: Period, clocks) -> float | None:
    """The core's caseload over the units that investigate (staff of other units, e.g. economic
    assistance, left out so that they do not dilute it)."""
    units = investigating_units(facts)
    kept = [case._replace(staff=tuple(s for s in case.staff if s.unit in units)) for case in facts]
    return municipality_figures(kept, as_of, period, clocks).get("caseload_per_social_worker")


def placements_by_unit(facts: Iterable[CaseFacts], as_of: float) -> dict[str, dict[str, int]]:
    """``{unit: {type: n}}`` running at ``as_of`` (as the core's placements_active counts them)."""
    out: dict[str, dict[str, int]] = {}
    for case in facts:
        for p in case.placements:
            if p.started <= as_of and (p.ended is None or p.ended > as_of):
                row = out.setdefault(p.unit, {})
                row[p.placement_type] = row.get(p.placement_type, 0) + 1
    return out


def reports_by_day(facts: Iterable[CaseFacts], as_of: float, first: date) -> dict[str, int]:
    """Reports of concern received per local day from ``first`` to ``as_of``."""
    out: dict[str, int] = {}
    for case in facts:
        for r in case.reports:
            if r.received <= as_of:
                day = local_date(r.received)
                if day >= first:
                    out[day.isoformat()] = out.get(day.isoformat(), 0) + 1
    return out


def weekly_inflow(facts: list[CaseFacts], as_of: float, first: date, clocks) -> list[tuple[date, int, bool]]:
    """Reports received per ISO week (Monday..Sunday) from the week containing ``first`` to the
    week containing ``as_of``: ``(monday, count, complete)``; a week cut by ``as_of`` is
    marked incomplete."""
    items = group_by_unit(as_one_unit(facts))
    reports = [r for bucket in items.values() for r in bucket.reports]
    last = local_date(as_of)
    monday = first - timedelta(days=first.weekday())
    out = []
    while monday <= last:
        period = Period.of_dates(monday, monday + timedelta(days=7))
        n = report_kpis(reports, as_of, period, clocks)["reports_received"]
        out.append((monday, n, monday + timedelta(days=7) <= last + timedelta(days=1)))
        monday += timedelta(days=7)
    return out


def data_through(replay: Replay) -> str | None:
    return None if replay.latest is None else format_ts(replay.latest)


def first_event_day(replay: Replay, municipality: str) -> date | None:
    earliest = None
    for (m, _case), records in replay.cases.items():
        if m != municipality:
            continue
        for record in records.values():
            if earliest is None or record[0] < earliest:
                earliest = record[0]
    return None if earliest is None else local_date(earliest)


def year_start_ts(year: int) -> float:
    return day_start(date(year, 1, 1).toordinal())
