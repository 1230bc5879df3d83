"""Net cost per activity (verksamhet): outcome and budget to date, year forecast, last year.

Costs come from the events, through the core's KPIs per unit (``placement_cost_sek``,
``consultant_cost_sek``, ``payments_sek``), plus the ledger (SIE 4 file or CSV, see
:mod:`.ledger`) for what the events do not carry (own staff, premises, income). Costs are
positive SEK here; the report prints them as negative net cost, as the board's own tables do.

Every activity of the board configuration is a row. An activity whose costs come only from
the ledger has no outcome when no ledger is given: its outcome is unknown (``None``) and its
forecast is its budget, and the report says so. The year forecast is :mod:`.forecast`.
"""
from __future__ import annotations

from datetime import date
from math import fsum

from streams.core.clocks import DEFAULT_CLOCKS, Clocks
from streams.core.facts import CaseFacts
from streams.core.kpis import Period, compute, placement_cost
from streams.core.timeutil import local_day

from .colours import budget_colour, budget_deviation_pct
from .config import Activity, BoardConfig
from .figures import Month
from .ledger import LedgerError, LedgerLine, read_ledger  # noqa: F401 (re-exported)
from .forecast import METHOD_SV, History, forecast_parts as _forecast_parts, months_back, observation_start

FORECAST_METHOD = METHOD_SV

UNALLOCATED = "ej_fordelat"


def _ledger_sum(ledger: list[LedgerLine], activity: Activity, lo: date, hi: date) -> float:
    names = {activity.id, activity.name, *activity.ledger_codes}
    return fsum(line.amount_sek for line in ledger if line.activity in names and lo <= line.day < hi)


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
    return months_back(month.year, month.month, n)


def forecast_parts(facts: list[CaseFacts], activity: Activity, month: Month, as_of: float,
                   history: History | None = None, first_day: int | None = None,
                   group_of=None) -> dict[str, float]:
    """Running and expected new placements and consultants of one activity (SEK to year end).
    ``group_of(unit)``: the group whose durations a unit's placements share (the activity)."""
    history = history or History.of(facts, as_of, first_day, group_of)
    return _forecast_parts(facts, activity.owns, activity.sources, month.year, month.month, as_of, history,
                           group_of=group_of)


def economy(config: BoardConfig, facts: list[CaseFacts], month: Month, ledger: list[LedgerLine] | None = None,
            clocks: Clocks = DEFAULT_CLOCKS, first_event: date | None = None) -> dict:
    """The economy table for ``month``: one row per activity of the board and a total ("Resultat")."""
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
    # Events reaching back over last year are not enough: an import of open cases carries their
    # past too. Last year counts as complete only from the date the board says the events are.
    complete_from = config.events_complete_from
    covered = complete_from is not None and complete_from <= date(month.year - 1, 1, 1)
    # durations are observed from when the events hold every case (the board's date, or the
    # first full week of reports): an older placement enters the history at its age then
    observed_from = (config.events_complete_from.toordinal() if config.events_complete_from
                     else observation_start(facts))
    # children's and adults' stays of one type differ: durations are kept per activity
    def group_of(unit: str) -> str:
        activity = config.activity_for_unit(unit)
        return activity.id if activity else UNALLOCATED

    history = History.of(facts, as_of, observed_from, group_of)

    rows = []
    for activity in config.activities:
        sources = [s for s in activity.sources if s != "huvudbok" or have_ledger]
        budget = activity.budget_to_month(month.month)
        if not sources:
            # a ledger-only activity and no ledger: nothing known; the forecast keeps to the budget
            configured = activity.outcome_of(month.year - 1)
            rows.append(_row(activity.id, activity.name, {}, None, budget, activity.annual_budget_sek,
                             activity.annual_budget_sek, configured, "board.yaml",
                             configured is not None, {"enligt_budget": True}, config.budget_yellow_pct,
                             tuple(activity.sources)))
            continue
        costs = {s: ytd_costs.get(activity.id, {}).get(s, 0.0) for s in sources if s != "huvudbok"}
        if "huvudbok" in sources:
            costs["huvudbok"] = _ledger_sum(ledger, activity, jan1, month.next_first_day)
        outcome = fsum(costs.values())
        parts = forecast_parts(facts, activity, month, as_of, history, group_of=group_of)
        if "ekonomiskt_bistand" in sources:
            # payments at their last three months' mean (households' spells were tried: on the
            # simulated years they erred as much, with a lean to too high; see the README)
            parts["bistand"] = (window_costs.get(activity.id, {}).get("ekonomiskt_bistand", 0.0)
                                / 3 * remaining_months)
        # the ledger's lines (own staff, premises, income) at their mean of this year's last
        # three months (fewer in January and February: last year's salary level is not this year's)
        ledger_months = min(3, month.month)
        parts["ovrigt"] = (_ledger_sum(ledger, activity, _months_back(month, ledger_months), month.next_first_day)
                           / ledger_months * remaining_months if "huvudbok" in sources else 0.0)
        forecast = fsum([outcome, parts["pagaende_placeringar"], parts["pagaende_konsulter"],
                         parts["nya_placeringar"], parts.get("bistand", 0.0),
                         parts["ovrigt"]])
        configured = activity.outcome_of(month.year - 1)
        if configured is not None:
            last, last_source, last_full = configured, "board.yaml", True
        else:
            last = fsum([v for s, v in last_costs.get(activity.id, {}).items() if s in sources]
                        + ([_ledger_sum(ledger, activity, date(month.year - 1, 1, 1), jan1)] if "huvudbok" in sources else []))
            last_source = "händelser"
            # complete when the events reach back over last year, and the ledger does too when used
            last_full = covered and ("huvudbok" not in sources or any(line.day < jan1 for line in ledger))
        rows.append(_row(activity.id, activity.name, costs, outcome, budget, forecast, activity.annual_budget_sek,
                         last, last_source, last_full, parts, config.budget_yellow_pct, tuple(sources)))

    unallocated = ytd_costs.get(UNALLOCATED)
    if unallocated and any(unallocated.values()):
        outcome = fsum(unallocated.values())
        rows.append(_row(UNALLOCATED, "Ej fördelade enheter", unallocated, outcome, 0.0, outcome, 0.0,
                         0.0, "händelser", False, {}, config.budget_yellow_pct, tuple(unallocated)))

    known = [r for r in rows if r["utfall_ack"] is not None]
    # an activity without outcome counts in the total with its budget, so the total's deviation is the known ones'
    total = _row("resultat", "Resultat", {}, fsum(r["budget_ack"] if r["utfall_ack"] is None else r["utfall_ack"]
                                                  for r in rows),
                 fsum(r["budget_ack"] for r in rows), fsum(r["arsprognos"] for r in rows),
                 fsum(r["arsbudget"] for r in rows),
                 fsum(r["foregaende_ar"] or 0.0 for r in rows), "summa",
                 all(r["foregaende_ar_fullstandigt"] for r in rows), {}, config.budget_yellow_pct,
                 tuple(sorted({s for r in rows for s in r["tackning"]})))
    return {
        "manad": str(month),
        "period_ack": ytd.as_json(),
        "verksamheter": rows,
        "resultat": total,
        "farg": total["farg"],
        "avvikelse_procent": total["avvikelse_procent"],
        # the deviation to date over the activities whose outcome is known
        "avvikelse_ack_kanda": fsum(r["avvikelse_ack"] for r in known),
        "utan_utfall": [r["namn"] for r in rows if r["utfall_ack"] is None],
        "huvudbok": have_ledger,
        "metod": FORECAST_METHOD,
    }


def _row(ident, name, costs, outcome, budget, forecast, annual, last, last_source, last_full, parts, yellow_pct,
         coverage=()) -> dict:
    return {
        "id": ident,
        "namn": name,
        "kostnader_ack": costs,
        "tackning": list(coverage),
        "utfall_ack": outcome,
        "budget_ack": budget,
        "avvikelse_ack": None if outcome is None else budget - outcome,
        "arsprognos": forecast,
        "prognos_delar": parts,
        "arsbudget": annual,
        "avvikelse_ar": annual - forecast,
        "avvikelse_procent": budget_deviation_pct(forecast, annual) if annual else None,
        "farg": budget_colour(forecast, annual, yellow_pct),
        "foregaende_ar": last,
        "foregaende_ar_kalla": last_source,
        "foregaende_ar_fullstandigt": last_full,
        "avvikelse_mot_foregaende_ar": None if last is None else last - forecast,
    }
