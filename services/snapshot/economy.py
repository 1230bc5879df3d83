"""Net cost per activity (verksamhet): outcome and budget to date, year forecast, last year.

Costs come from the events, through the core's KPIs per unit (``placement_cost_sek``,
``consultant_cost_sek``, ``payments_sek``), plus an optional ledger CSV for what the events do
not carry (staff, premises, income). Costs are positive SEK here; the report prints them as
negative net cost, as the board's own tables do.

The year forecast (årsprognos), stated in the report as :data:`FORECAST_METHOD`:

    forecast = outcome to date
             + Σ over placements and consultants active at month end:
                 their daily cost in force × the remaining days of the year      (running)
             + for placements and for consultants separately:
                 expected new ones = starts in the trailing 3 months / days in those months × R
                 × mean initial daily cost of those starts × mean remaining days (R + 1) / 2   (new)
             + payments of economic assistance and ledger lines:
                 their mean per month over the trailing 3 months × remaining months  (other)

R is the number of days from the day after the month to 31 December. Active placements and
consultants are assumed to run to the year's end; a new start is equally likely on each of
the R days, so it runs (R + 1) / 2 days on average.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from math import fsum
from pathlib import Path

from streams.core.clocks import DEFAULT_CLOCKS, Clocks
from streams.core.facts import CaseFacts
from streams.core.kpis import Period, compute, placement_cost
from streams.core.timeutil import local_day

from .colours import budget_colour, budget_deviation_pct
from .config import Activity, BoardConfig
from .figures import Month

FORECAST_METHOD = (
    "Årsprognosen = utfall hittills i år + för årets återstående dagar dygnskostnaden för de "
    "placeringar och konsulter som är aktiva vid månadens slut (antas pågå årets ut) + förväntade "
    "nya placeringar respektive konsulter: antalet starter de senaste tre månaderna per dag × "
    "återstående dagar × deras genomsnittliga dygnskostnad × genomsnittligt återstående dagar "
    "((R + 1)/2, där R är årets återstående dagar) + ekonomiskt bistånd och huvudboksposter med "
    "genomsnittet per månad de senaste tre månaderna × återstående månader."
)

UNALLOCATED = "ej_fordelat"


@dataclass(frozen=True)
class LedgerLine:
    day: date
    activity: str
    amount_sek: float  # cost positive, income negative
    text: str = ""


class LedgerError(ValueError):
    pass


def _amount(text: str) -> float:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("−", "-")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "")
    return float(cleaned.replace(",", "."))


def read_ledger(path: Path) -> list[LedgerLine]:
    """A ledger CSV (``;`` or ``,`` separated, UTF-8) with a header naming the columns
    ``datum`` (YYYY-MM-DD), ``verksamhet`` (an activity id or name), ``belopp_sek`` (cost
    positive, income negative; decimal comma allowed) and optionally ``text``."""
    raw = Path(path).read_text(encoding="utf-8-sig")
    header = raw.splitlines()[0] if raw else ""
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.DictReader(io.StringIO(raw), delimiter=delimiter)
    fields = {(f or "").strip().lower() for f in reader.fieldnames or ()}
    amount_key = "belopp_sek" if "belopp_sek" in fields else "belopp"
    missing = {"datum", "verksamhet", amount_key} - fields
    if missing:
        raise LedgerError(f"{path}: kolumner saknas: {', '.join(sorted(missing))}")
    lines = []
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not any(row.values()):
            continue
        try:
            lines.append(LedgerLine(date.fromisoformat(row["datum"]), row["verksamhet"], _amount(row[amount_key]),
                                    row.get("text", "")))
        except ValueError:
            raise LedgerError(f"{path}: rad {n}: ogiltigt datum eller belopp") from None
    return lines


def _ledger_sum(ledger: list[LedgerLine], activity: Activity, lo: date, hi: date) -> float:
    return fsum(line.amount_sek for line in ledger
                if line.activity in (activity.id, activity.name) and lo <= line.day < hi)


def _unit_costs(facts: list[CaseFacts], as_of: float, period: Period, clocks: Clocks) -> dict[str, dict[str, float]]:
    """``{unit: {source: SEK}}`` from the core's KPIs over ``period``."""
    out: dict[str, dict[str, float]] = {}
    for units in compute(facts, as_of, period, clocks).values():
        for unit, k in units.items():
            out[unit] = {
                "placeringar": fsum(k["placement_cost_sek"].values()),
                "konsulter": k["consultant_cost_sek"],
                "ekonomiskt_bistand": k["payments_sek"],
            }
    return out


def _by_activity(config: BoardConfig, unit_costs: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    sums: dict[str, dict[str, list[float]]] = {}
    for unit, costs in unit_costs.items():
        activity = config.activity_for_unit(unit)
        key = activity.id if activity else UNALLOCATED
        sources = activity.sources if activity else ("placeringar", "konsulter", "ekonomiskt_bistand")
        bucket = sums.setdefault(key, {})
        for source in sources:
            if source in costs:
                bucket.setdefault(source, []).append(costs[source])
    return {a: {s: fsum(v) for s, v in b.items()} for a, b in sums.items()}


def _months_back(month: Month, n: int) -> date:
    """First day of the month ``n - 1`` months before ``month`` (n = 3: the 3-month window)."""
    index = month.year * 12 + month.month - 1 - (n - 1)
    return date(index // 12, index % 12 + 1, 1)


def forecast_parts(facts: list[CaseFacts], activity: Activity, month: Month, as_of: float) -> dict[str, float]:
    """Running and expected new placements and consultants of one activity (SEK to year end)."""
    lo = month.period.end  # first day after the month (ordinal)
    hi = date(month.year + 1, 1, 1).toordinal()
    remaining = hi - lo
    window_lo = _months_back(month, 3).toordinal()
    window_days = lo - window_lo
    running_p, running_c, starts_p, starts_c = [], [], [], []
    for case in facts:
        if "placeringar" in activity.sources:
            for p in case.placements:
                if not activity.owns(p.unit) or p.started > as_of:
                    continue
                if p.ended is None or p.ended > as_of:
                    running_p.append(placement_cost(p, as_of, lo, hi))
                if window_lo <= local_day(p.started) < lo:
                    starts_p.append(p.costs[0][1])
        if "konsulter" in activity.sources:
            for s in case.staff:
                if not activity.owns(s.unit) or s.employment != "consultant" or not s.daily_cost_sek or s.joined > as_of:
                    continue
                if s.left is None or s.left > as_of:
                    running_c.append(s.daily_cost_sek * remaining)
                if window_lo <= local_day(s.joined) < lo:
                    starts_c.append(s.daily_cost_sek)

    def expected_new(starts: list[float]) -> float:
        if not starts or remaining <= 0:
            return 0.0
        rate = len(starts) / window_days
        return rate * remaining * (fsum(starts) / len(starts)) * (remaining + 1) / 2

    return {
        "aterstaende_dagar": remaining,
        "pagaende_placeringar": fsum(running_p),
        "pagaende_konsulter": fsum(running_c),
        "nya_placeringar": expected_new(starts_p),
        "nya_konsulter": expected_new(starts_c),
        "starter_placeringar_3man": len(starts_p),
        "starter_konsulter_3man": len(starts_c),
    }


def economy(config: BoardConfig, facts: list[CaseFacts], month: Month, ledger: list[LedgerLine] | None = None,
            clocks: Clocks = DEFAULT_CLOCKS, first_event: date | None = None) -> dict:
    """The economy table for ``month``: one row per activity and a total ("Resultat")."""
    as_of = month.as_of
    jan1 = date(month.year, 1, 1)
    ytd = Period.of_dates(jan1, month.next_first_day)
    window = Period.of_dates(_months_back(month, 3), month.next_first_day)
    last_year = Period.of_dates(date(month.year - 1, 1, 1), jan1)
    have_ledger = ledger is not None
    ledger = ledger or []
    ytd_costs = _by_activity(config, _unit_costs(facts, as_of, ytd, clocks))
    window_costs = _by_activity(config, _unit_costs(facts, as_of, window, clocks))
    last_costs = _by_activity(config, _unit_costs(facts, as_of, last_year, clocks))
    remaining_months = 12 - month.month
    covered = first_event is not None and first_event <= date(month.year - 1, 1, 1)

    rows = []
    for activity in config.activities:
        sources = [s for s in activity.sources if s != "huvudbok" or have_ledger]
        if not sources:
            continue  # e.g. a ledger-only activity when no ledger is given
        costs = {s: ytd_costs.get(activity.id, {}).get(s, 0.0) for s in sources if s != "huvudbok"}
        if "huvudbok" in sources:
            costs["huvudbok"] = _ledger_sum(ledger, activity, jan1, month.next_first_day)
        outcome = fsum(costs.values())
        budget = activity.budget_to_month(month.month)
        parts = forecast_parts(facts, activity, month, as_of)
        other_window = fsum([window_costs.get(activity.id, {}).get("ekonomiskt_bistand", 0.0)
                             if "ekonomiskt_bistand" in sources else 0.0,
                             _ledger_sum(ledger, activity, _months_back(month, 3), month.next_first_day) if "huvudbok" in sources else 0.0])
        parts["ovrigt"] = other_window / 3 * remaining_months
        forecast = fsum([outcome, parts["pagaende_placeringar"], parts["pagaende_konsulter"],
                         parts["nya_placeringar"], parts["nya_konsulter"], parts["ovrigt"]])
        if activity.last_year_sek is not None:
            last, last_source, last_full = activity.last_year_sek, "board.yaml", True
        else:
            last = fsum([v for s, v in last_costs.get(activity.id, {}).items() if s in sources]
                        + ([_ledger_sum(ledger, activity, date(month.year - 1, 1, 1), jan1)] if "huvudbok" in sources else []))
            last_source, last_full = "händelser", covered
        rows.append(_row(activity.id, activity.name, costs, outcome, budget, forecast, activity.annual_budget_sek,
                         last, last_source, last_full, parts, config.budget_yellow_pct))

    unallocated = ytd_costs.get(UNALLOCATED)
    if unallocated and any(unallocated.values()):
        outcome = fsum(unallocated.values())
        rows.append(_row(UNALLOCATED, "Ej fördelade enheter", unallocated, outcome, 0.0, outcome, 0.0,
                         0.0, "händelser", False, {}, config.budget_yellow_pct))

    total = _row("resultat", "Resultat", {}, fsum(r["utfall_ack"] for r in rows), fsum(r["budget_ack"] for r in rows),
                 fsum(r["arsprognos"] for r in rows), fsum(r["arsbudget"] for r in rows),
                 fsum(r["foregaende_ar"] for r in rows), "summa", all(r["foregaende_ar_fullstandigt"] for r in rows),
                 {}, config.budget_yellow_pct)
    return {
        "manad": str(month),
        "period_ack": ytd.as_json(),
        "verksamheter": rows,
        "resultat": total,
        "farg": total["farg"],
        "avvikelse_procent": total["avvikelse_procent"],
        "huvudbok": have_ledger,
        "metod": FORECAST_METHOD,
    }


def _row(ident, name, costs, outcome, budget, forecast, annual, last, last_source, last_full, parts, yellow_pct) -> dict:
    return {
        "id": ident,
        "namn": name,
        "kostnader_ack": costs,
        "utfall_ack": outcome,
        "budget_ack": budget,
        "avvikelse_ack": budget - outcome,
        "arsprognos": forecast,
        "prognos_delar": parts,
        "arsbudget": annual,
        "avvikelse_ar": annual - forecast,
        "avvikelse_procent": budget_deviation_pct(forecast, annual) if annual else None,
        "farg": budget_colour(forecast, annual, yellow_pct),
        "foregaende_ar": last,
        "foregaende_ar_kalla": last_source,
        "foregaende_ar_fullstandigt": last_full,
        "avvikelse_mot_foregaende_ar": last - forecast,
    }
