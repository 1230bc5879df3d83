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

import typer

from streams.core.replay import Replay

from .config import BoardConfig, load_config
from .economy import economy
from .figures import Month, facts_of, first_event_day, load_replay, municipalities

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


def backtest_command(
    events: str = typer.Option(..., "--events", help="JSONL file of case events (a year and its history)"),
    year: int = typer.Option(..., "--year", help="The year whose forecasts are tested"),
    municipality: str = typer.Option(None, "--municipality", help="One municipality (default: all in the file)"),
) -> None:
    """Forecast at each month end against the year's actual outcome (event-borne costs), error in percent."""
    replay = load_replay(events)
    for mun in [municipality] if municipality else municipalities(replay):
        rows = backtest(replay, mun, year)
        typer.echo(f"{mun} {year}: actual {rows[0].actual_sek / 1e6:.1f} MSEK")
        for r in rows:
            typer.echo(f"  {year}-{r.month:02d}  forecast {r.forecast_sek / 1e6:8.2f} MSEK  error {r.error_pct:+6.2f} %")
