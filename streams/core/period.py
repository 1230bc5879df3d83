"""The period a KPI counts over (CONTRACT.md §4): whole local days ``[from, to)``.

The contract's default is the calendar month containing ``as_of``, ending at the start of the
day after ``as_of``'s date (month to date). Kept apart from the KPI functions (kpis.py), which
take a period as given; ``streams.core.kpis`` re-exports it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .timeutil import day_start, local_day, month_bounds


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
