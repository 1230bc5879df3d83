"""Enhetsöversikt: the unit head's first screen — inflow against normal, backlogs against their
thresholds, what is overdue and what soon will be, caseload per social worker."""
from __future__ import annotations

from typing import Mapping

from grafana_foundation_sdk.builders import dashboard

from .common import (
    COUNT, GREEN, SHARE, UNIT_LEGEND, YELLOW, Query, above, any_is_bad, assemble, bargauge_panel,
    new_dashboard, per_unit, ratio, row, sel, stat_panel, timeseries_panel,
)

UID_SUFFIX = "unit-overview"
TITLE = "Enhetsöversikt"



def _per_unit(metric: str, function: str = "sum", **labels: str) -> str:
    return per_unit(function, metric, **labels)


def _unit_threshold(kind: str) -> Query:
    """The unit's effective threshold (overrides included), as published by the exporter."""
    return Query(_per_unit("casewatch_threshold", "max", kind=kind), f"Tröskel {UNIT_LEGEND}")


def inflow_row(limits: Mapping[str, float]) -> list:
    return [
        row("Inflöde av orosanmälningar"),
        timeseries_panel(
            "Orosanmälningar senaste 7 dagarna mot normal vecka",
            "Antal orosanmälningar som kommit in de senaste 7 dagarna per enhet (heldragen linje) "
            "jämfört med normalnivån: veckosnittet under de 12 veckorna innan (streckad linje).",
            COUNT,
            [Query(_per_unit("casewatch_reports_received_last_7d"), f"Senaste 7 dagarna {UNIT_LEGEND}"),
             Query(_per_unit("casewatch_reports_received_weekly_mean_12w"), f"Normal vecka {UNIT_LEGEND}")],
            dashed_series=["^Normal vecka .*"], span=16, decimals=0,
        ),
        bargauge_panel(
            "Inflöde i förhållande till normal",
            "Orosanmälningar de senaste 7 dagarna delat med veckosnittet de 12 veckorna innan. "
            "100 % är en normal vecka; rött från tröskeln för ovanligt högt inflöde "
            "(`inflow_spike_ratio` i `thresholds.yaml`).",
            SHARE,
            [Query(ratio(_per_unit("casewatch_reports_received_last_7d"),
                         _per_unit("casewatch_reports_received_weekly_mean_12w")), UNIT_LEGEND)],
            steps=above(limits["inflow_spike_ratio"]), span=8, decimals=0,
        ),
    ]


def _backlog(title: str, description: str, metric: str, kind: str, limits: Mapping[str, float]):
    return timeseries_panel(
        title,
        description + " Streckad röd linje: standardtröskeln; streckad serie 'Tröskel': enhetens "
        "egen tröskel när den avviker (`thresholds.yaml`).",
        COUNT,
        [Query(_per_unit(metric), UNIT_LEGEND), _unit_threshold(kind)],
        steps=above(limits[kind]), dashed_series=["^Tröskel .*"], span=8, decimals=0,
    )


def backlog_row(limits: Mapping[str, float]) -> list:
    return [
        row("Balanser mot lagstadgade tidsgränser"),
        _backlog("Orosanmälningar som väntar på förhandsbedömning",
                 "Orosanmälningar där förhandsbedömningen inte är klar (tidsgräns 14 dagar).",
                 "casewatch_reports_awaiting_screening", "reports_awaiting_screening_max", limits),
        _backlog("Pågående utredningar",
                 "Pågående utredningar, alla områden (för barnutredningar gäller tidsgränsen 4 månader).",
                 "casewatch_investigations_open", "investigations_open_max", limits),
        _backlog("Ej verkställda beslut",
                 "Gynnande beslut som ännu inte verkställts (rapport till IVO efter 3 månader).",
                 "casewatch_decisions_not_enforced", "decisions_not_enforced_max", limits),
    ]


def _total(metric: str) -> str:
    return f"sum({sel(metric)})"


def overdue_row() -> list:
    overdue = [
        ("Skyddsbedömningar efter 24 timmar",
         "Orosanmälningar om barn där skyddsbedömningen inte gjordes genast (inom 24 timmar).",
         "casewatch_protection_assessments_overdue"),
        ("Förhandsbedömningar efter 14 dagar",
         "Orosanmälningar där förhandsbedömningen passerat 14 dagar.",
         "casewatch_reports_screening_overdue"),
        ("Barnutredningar efter 4 månader",
         "Barnutredningar som pågått längre än 4 månader (länkade utredningar räknas samman).",
         "casewatch_investigations_overdue"),
        ("Beslut att rapportera till IVO",
         "Gynnande beslut som inte verkställts inom 3 månader och ska rapporteras till IVO.",
         "casewatch_decisions_reportable"),
    ]
    due_soon = [
        ("Förhandsbedömningar snart försenade",
         "Väntar på förhandsbedömning och har passerat dag 10 av 14.",
         "casewatch_reports_screening_due_soon"),
        ("Barnutredningar snart försenade",
         "Pågående barnutredningar som passerat 3 av 4 månader.",
         "casewatch_investigations_due_soon"),
        ("Beslut snart rapporteringspliktiga",
         "Ej verkställda beslut som passerat 2 av 3 månader.",
         "casewatch_decisions_due_soon"),
    ]
    panels: list = [row("Försenat nu")]
    panels += [stat_panel(title, description + " Summa för valda enheter; rött vid minst ett ärende.",
                          COUNT, [Query(_total(metric), "Antal")], steps=any_is_bad(), span=6, decimals=0)
               for title, description, metric in overdue]
    panels.append(row("Tidiga varningar: snart försenat"))
    panels += [stat_panel(title, description + " Summa för valda enheter; gult vid minst ett ärende.",
                          COUNT, [Query(_total(metric), "Antal")], steps=[(None, GREEN), (1, YELLOW)],
                          span=8, decimals=0)
               for title, description, metric in due_soon]
    return panels


def caseload_row(limits: Mapping[str, float]) -> list:
    kind = "caseload_per_social_worker_max"
    caseload = _per_unit("casewatch_caseload_per_social_worker", "max")
    return [
        row("Arbetsbelastning"),
        bargauge_panel(
            "Pågående utredningar per socialsekreterare just nu",
            "Pågående utredningar per socialsekreterare (räknat i årsarbetare), per enhet. Rött från tröskeln "
            "(`caseload_per_social_worker_max`). Saknas när enheten inte har någon bemanning registrerad.",
            COUNT, [Query(caseload, UNIT_LEGEND)],
            steps=above(limits[kind]), span=8, decimals=1, maximum=2 * limits[kind],
        ),
        timeseries_panel(
            "Pågående utredningar per socialsekreterare över tid",
            "Pågående utredningar per socialsekreterare (räknat i årsarbetare). Streckad röd linje: standardtröskeln; "
            "serien 'Tröskel' visar enhetens egen tröskel.",
            COUNT, [Query(caseload, UNIT_LEGEND), _unit_threshold(kind)],
            steps=above(limits[kind]), dashed_series=["^Tröskel .*"], span=16, decimals=1,
        ),
    ]


def build(limits: Mapping[str, float]) -> dashboard.Dashboard:
    builder = new_dashboard(
        UID_SUFFIX, TITLE,
        "Enhetschefens översikt: inflöde av orosanmälningar, balanser mot lagstadgade tidsgränser, "
        "försenade ärenden, tidiga varningar och arbetsbelastning.")
    return assemble(builder, inflow_row(limits), backlog_row(limits), overdue_row(), caseload_row(limits))
