"""How good is the year forecast? The forecast made at each month's end against the year's outcome.

For one municipality and one year: the economy table is computed as the board would have
seen it at the end of January, February, ..., November (each from the events known then),
and its forecast total compared with the outcome of the whole year (the December table's
outcome to date). Only the costs the events carry are compared (placements, consultants,
economic assistance): a ledger, when there is one, is the same in both and would only
dilute the error. ``casewatch backtest`` prints the table; ``bench/forecast_backtest.py``
runs it on several simulated municipalities and years.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import fsum

from streams.core.replay import Replay

from .config import BoardConfig, load_config
from .economy import economy
from .figures import Month, facts_of, first_event_day

EVENT_SOURCES = ("placeringar", "konsulter", "ekonomiskt_bistand")


@dataclass(frozen=True)
class MonthError:
    month: int
    forecast_sek: float
    actual_sek: float

    @property
    def error_pct(self) -> float:
        return (self.forecast_sek - self.actual_sek) / self.actual_sek * 100 if self.actual_sek else 0.0


def event_only(config: BoardConfig) -> BoardConfig:
    """The board's activities restricted to the costs the events carry."""
    activities = tuple(replace(a, sources=tuple(s for s in a.sources if s in EVENT_SOURCES))
                       for a in config.activities)
    return replace(config, activities=tuple(a for a in activities if a.sources))


def _total(table: dict, key: str) -> float:
    return fsum(r[key] for r in table["verksamheter"] if r[key] is not None)


def backtest(replay: Replay, municipality: str, year: int, config: BoardConfig | None = None) -> list[MonthError]:
    config = event_only(config or load_config())
    first = first_event_day(replay, municipality)
    december = Month(year, 12)
    actual = _total(economy(config, facts_of(replay, municipality, december.as_of), december, first_event=first),
                    "utfall_ack")
    out = []
    for m in range(1, 12):
        month = Month(year, m)
        table = economy(config, facts_of(replay, municipality, month.as_of), month, first_event=first)
        out.append(MonthError(m, _total(table, "arsprognos"), actual))
    return out
