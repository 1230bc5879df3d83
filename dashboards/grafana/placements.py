"""Placeringar och kostnad: active placements by type, placed days and mean price per day this
month, placement cost month-to-date against the budget pace."""
from __future__ import annotations

from typing import Mapping, Optional

from grafana_foundation_sdk.builders import dashboard

from .common import (
    COUNT, GREEN, KR, PLAIN, RED, SHARE, TKR, YELLOW, Query, assemble, bargauge_panel, by, in_tkr,
    new_dashboard, ratio, row, sel, stat_panel, timeseries_panel,
)
from .vocabulary import swedish_codes

UID_SUFFIX = "placements"
TITLE = "Placeringar och kostnad"

TYPE_LEGEND = "{{placement_type}}"


def per_type(metric: str) -> str:
    """``sum by (placement_type)`` with the placement types' Swedish names (HVB, Arvoderat familjehem ...)."""
    return swedish_codes(by("placement_type", "sum", sel(metric)), "placement_type")


def budget_steps(limits: Mapping[str, float]) -> list[tuple[Optional[float], str]]:
    """Outcome as a share of the budget pace: green within budget, yellow up to
    budget_deviation_pct over it, red beyond (the board's budget rule)."""
    return [(None, GREEN), (1.0, YELLOW), (1.0 + limits["budget_deviation_pct"] / 100.0, RED)]


def budget_panels(limits: Mapping[str, float], *, what: str, cost_metric: str, category: str,
                  span_series: int = 16, span_stat: int = 8) -> list:
    """Cost month-to-date against the budget pace (series) and as a share of it (stat)."""
    cost = f"sum({sel(cost_metric)})"
    budget = f"sum({sel('casewatch_budget_month_to_date_sek', category=category)})"
    pct = limits["budget_deviation_pct"]
    return [
        timeseries_panel(
            f"{what} hittills i månaden mot budgettakt",
            f"{what} sedan månadens början för valda enheter (heldragen) mot budgettakten: månadens "
            "budget × förflutna dagar / dagar i månaden (streckad). Budgeten per månad står i "
            "`thresholds.yaml` (`budgets_month_sek`).",
            TKR,
            [Query(in_tkr(cost), "Utfall hittills"), Query(in_tkr(budget), "Budgettakt")],
            dashed_series=["^Budgettakt$"], colors={"Budgettakt": "text"}, span=span_series, decimals=0,
        ),
        stat_panel(
            f"{what} i procent av budgettakt",
            f"Utfall hittills i månaden delat med budgettakten. Grönt inom budget, gult upp till "
            f"{pct:g} % över, rött därutöver (`budget_deviation_pct`).",
            SHARE, [Query(ratio(cost, budget), "Andel av budgettakt")],
            steps=budget_steps(limits), span=span_stat, decimals=1,
        ),
    ]


def placements_row() -> list:
    active = per_type("casewatch_placements_active")
    return [
        row("Pågående placeringar"),
        timeseries_panel(
            "Pågående placeringar per placeringsform",
            "Antal pågående placeringar (familjehem, HVB, SiS m.fl.) för valda enheter, staplat per "
            "placeringsform.",
            COUNT, [Query(active, TYPE_LEGEND)], stacked=True, span=16, decimals=0,
        ),
        stat_panel(
            "Pågående placeringar totalt",
            "Antal pågående placeringar just nu, alla placeringsformer, valda enheter.",
            COUNT, [Query(f"sum({sel('casewatch_placements_active')})", "Antal")], span=8, decimals=0,
        ),
    ]


def month_row() -> list:
    days = per_type("casewatch_month_placement_days")
    cost = per_type("casewatch_month_placement_cost_sek")
    return [
        row("Vårddygn och dygnspris denna månad"),
        bargauge_panel(
            "Vårddygn hittills i månaden",
            "Antal vårddygn sedan månadens början per placeringsform (ett vårddygn är en dag i placering).",
            PLAIN, [Query(days, TYPE_LEGEND)], span=8, decimals=0,
        ),
        bargauge_panel(
            "Genomsnittligt dygnspris i månaden",
            "Kostnad hittills i månaden delat med vårddygn hittills i månaden, per placeringsform.",
            KR, [Query(ratio(cost, days), TYPE_LEGEND)], span=8, decimals=0,
        ),
        bargauge_panel(
            "Genomsnittligt antal placerade i månaden",
            "Medelantal pågående placeringar per dag hittills i månaden, per placeringsform.",
            COUNT, [Query(per_type("casewatch_month_placements_mean"), TYPE_LEGEND)],
            span=8, decimals=1,
        ),
    ]


def cost_row(limits: Mapping[str, float]) -> list:
    return [
        row("Kostnad mot budget"),
        *budget_panels(limits, what="Placeringskostnad", cost_metric="casewatch_month_placement_cost_sek",
                       category="placements"),
        timeseries_panel(
            "Placeringskostnad hittills i månaden per placeringsform",
            "Kostnad sedan månadens början per placeringsform, valda enheter, i tusental kronor.",
            TKR, [Query(in_tkr(per_type("casewatch_month_placement_cost_sek")), TYPE_LEGEND)],
            stacked=True, span=24, decimals=0,
        ),
    ]


def build(limits: Mapping[str, float]) -> dashboard.Dashboard:
    builder = new_dashboard(
        UID_SUFFIX, TITLE,
        "Pågående placeringar per placeringsform, vårddygn och dygnspris denna månad, och "
        "placeringskostnad mot budgettakt.")
    return assemble(builder, placements_row(), month_row(), cost_row(limits))
