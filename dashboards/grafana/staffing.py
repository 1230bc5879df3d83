"""Bemanning: FTE by employment type, consultant share against its threshold, consultant cost
against the budget pace."""
from __future__ import annotations

from typing import Mapping

from grafana_foundation_sdk.builders import dashboard

from streams.vocabulary import EMPLOYMENTS_SV

from .common import (
    BLUE, FTE, SHARE, UNIT_LEGEND, YELLOW, Query, above, assemble, by, new_dashboard, per_unit, ratio, row,
    sel, stat_panel, timeseries_panel,
)
from .vocabulary import swedish_codes
from .placements import budget_panels

UID_SUFFIX = "staffing"
TITLE = "Bemanning"



def fte_row(limits: Mapping[str, float]) -> list:
    kind = "consultant_share_max"
    consultants = f"sum({sel('casewatch_staff_active_fte', employment='consultant')})"
    everyone = f"sum({sel('casewatch_staff_active_fte')})"
    return [
        row("Årsarbetare och andel inhyrda konsulter"),
        timeseries_panel(
            "Årsarbetare per anställningsform",
            "Aktiva årsarbetare (heltidsekvivalenter) i valda enheter: egen personal och inhyrda "
            "konsulter, staplat.",
            FTE, [Query(swedish_codes(by("employment", "sum", sel("casewatch_staff_active_fte")), "employment"),
                   "{{employment}}")],
            stacked=True, span=16, decimals=1,
            colors={EMPLOYMENTS_SV["permanent"]: BLUE, EMPLOYMENTS_SV["consultant"]: YELLOW},
        ),
        stat_panel(
            "Andel inhyrda konsulter",
            "Inhyrda konsulters andel av alla aktiva årsarbetare i valda enheter. Rött från tröskeln "
            "(`consultant_share_max`).",
            SHARE, [Query(ratio(consultants, everyone), "Andel inhyrda konsulter")],
            steps=above(limits[kind]), span=8, decimals=1,
        ),
        timeseries_panel(
            "Andel inhyrda konsulter per enhet",
            "Inhyrda konsulters andel av enhetens årsarbetare. Streckad röd linje: standardtröskeln; "
            "serien 'Tröskel' visar enhetens egen tröskel.",
            SHARE,
            [Query(per_unit("max", "casewatch_consultant_share_ratio"), UNIT_LEGEND),
             Query(per_unit("max", "casewatch_threshold", kind=kind), f"Tröskel {UNIT_LEGEND}")],
            steps=above(limits[kind]), dashed_series=["^Tröskel .*"], span=24, decimals=1,
        ),
    ]


def cost_row(limits: Mapping[str, float]) -> list:
    return [
        row("Konsultkostnad"),
        *budget_panels(limits, what="Konsultkostnad", cost_metric="casewatch_month_consultant_cost_sek",
                       category="consultants"),
    ]


def build(limits: Mapping[str, float]) -> dashboard.Dashboard:
    builder = new_dashboard(
        UID_SUFFIX, TITLE,
        "Bemanning i årsarbetare per anställningsform, konsultandel mot tröskel och konsultkostnad "
        "mot budgettakt.")
    return assemble(builder, fte_row(limits), cost_row(limits))
