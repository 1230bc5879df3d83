"""How good is the year forecast? The forecast made at each month's end against the year's outcome.

For one municipality and one year: the economy table is computed as the board would have
seen it at the end of January, February, ..., November (each from the events known then, and
the ledger's lines booked by then), and its forecast total compared with the outcome of the
whole year (the December table's outcome to date).

Two measures. The **net cost** is the table's total as the board sees it, every activity with
its ledger lines (own staff, premises, income): the issue's target and the seed's
"prognossäkerhet" are about this figure. The **event-borne part** (placements, consultants,
economic assistance) is where nearly all the uncertainty is; its error in percent of its own
outcome is the stricter figure, shown beside it. Without a ledger both are the event-borne part.
``casewatch backtest`` prints them; ``bench/forecast_backtest.py`` runs them on several
simulated municipalities and years.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import fsum

from streams.core.replay import Replay

from .config import BoardConfig, load_config
from .economy import economy
from .figures import Month, facts_of, first_event_day
from .ledger import LedgerLine

LEDGER = "huvudbok"


@dataclass(frozen=True)
class MonthError:
    month: int
    forecast_sek: float  # the net cost: every activity, ledger included
    actual_sek: float
    events_forecast_sek: float  # the event-borne part alone
    events_actual_sek: float
    # activity id -> (forecast, actual) of its net cost: where an error lies
    by_activity: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def error_pct(self) -> float:
        return (self.forecast_sek - self.actual_sek) / self.actual_sek * 100 if self.actual_sek else 0.0

    @property
    def events_error_pct(self) -> float:
        return ((self.events_forecast_sek - self.events_actual_sek) / self.events_actual_sek * 100
                if self.events_actual_sek else 0.0)


def _known(table: dict) -> list[dict]:
    """The activities with an outcome (a ledger-only one without a ledger has none: left out)."""
    return [r for r in table["verksamheter"] if r["utfall_ack"] is not None]


def _ledger_part(row: dict, key: str) -> float:
    """The ledger's share of a row's outcome to date or forecast."""
    booked = row["kostnader_ack"].get(LEDGER, 0.0)
    return booked if key == "utfall_ack" else booked + row["prognos_delar"].get("ovrigt", 0.0)


def totals(table: dict, key: str) -> tuple[float, float]:
    """(net cost, event-borne part) of ``key`` (``utfall_ack`` or ``arsprognos``)."""
    rows = _known(table)
    whole = fsum(r[key] for r in rows)
    return whole, whole - fsum(_ledger_part(r, key) for r in rows)


def backtest(replay: Replay, municipality: str, year: int, config: BoardConfig | None = None,
             ledger: list[LedgerLine] | None = None) -> list[MonthError]:
    config = config or load_config()
    first = first_event_day(replay, municipality)
    december = Month(year, 12)
    year_table = economy(config, facts_of(replay, municipality, december.as_of), december, ledger=ledger,
                         first_event=first)
    actual, events_actual = totals(year_table, "utfall_ack")
    actual_by = {r["id"]: r["utfall_ack"] for r in _known(year_table)}
    out = []
    for m in range(1, 12):
        month = Month(year, m)
        known = None if ledger is None else [line for line in ledger if line.day < month.next_first_day]
        table = economy(config, facts_of(replay, municipality, month.as_of), month, ledger=known, first_event=first)
        forecast, events_forecast = totals(table, "arsprognos")
        by = {r["id"]: (r["arsprognos"], actual_by[r["id"]]) for r in _known(table) if r["id"] in actual_by}
        out.append(MonthError(m, forecast, actual, events_forecast, events_actual, by))
    return out
