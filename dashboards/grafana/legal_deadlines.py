"""Lagstadgade tidsgränser: each legal clock's open, due-soon and overdue counts over time, and
the decisions reportable to IVO."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from grafana_foundation_sdk.builders import dashboard

from .common import (
    COUNT, RED, UNIT_LEGEND, YELLOW, BLUE, Query, any_is_bad, assemble, bargauge_panel,
    new_dashboard, per_unit, row, sel, stat_panel, timeseries_panel,
)

UID_SUFFIX = "legal-deadlines"
TITLE = "Lagstadgade tidsgränser"



@dataclass(frozen=True)
class Clock:
    title: str          # the row
    name: str           # what is counted, for panel titles
    rule: str           # what the law says, for descriptions
    open_metric: Optional[str]
    open_label: str
    due_soon_metric: Optional[str]
    due_soon_label: str
    overdue_metric: str
    overdue_label: str


CLOCKS = (
    Clock("Skyddsbedömning (genast, inom 24 timmar)", "Skyddsbedömningar",
          "En skyddsbedömning ska göras genast efter en orosanmälan om ett barn.",
          None, "", None, "",
          "casewatch_protection_assessments_overdue", "Försenade (efter 24 timmar)"),
    Clock("Förhandsbedömning (14 dagar)", "Förhandsbedömningar",
          "Förhandsbedömningen ska vara klar inom 14 dagar från orosanmälan (SoL 2025:400 20:2, "
          "tidigare 11:1a); förlängning bara om det finns synnerliga skäl. Varning från dag 10.",
          "casewatch_reports_awaiting_screening", "Väntar på förhandsbedömning",
          "casewatch_reports_screening_due_soon", "Snart försenade (dag 10–14)",
          "casewatch_reports_screening_overdue", "Försenade (över 14 dagar)"),
    Clock("Barnutredning (4 månader)", "Barnutredningar",
          "En utredning om ett barn ska vara klar inom 4 månader; nämnden kan besluta om förlängning. "
          "Varning från månad 3. Utredningar som avslutats och direkt öppnats igen räknas samman.",
          "casewatch_investigations_open", "Pågående utredningar (alla områden)",
          "casewatch_investigations_due_soon", "Snart försenade (månad 3–4)",
          "casewatch_investigations_overdue", "Försenade (över 4 månader)"),
    Clock("Ej verkställda beslut (3 månader, rapport till IVO)", "Ej verkställda beslut",
          "Gynnande beslut som inte verkställts inom 3 månader ska rapporteras till IVO, kvartalsvis "
          "tills de verkställts eller upphört. Varning från månad 2.",
          "casewatch_decisions_not_enforced", "Ej verkställda beslut",
          "casewatch_decisions_due_soon", "Snart rapporteringspliktiga (månad 2–3)",
          "casewatch_decisions_reportable", "Att rapportera till IVO"),
)


def _total(metric: str) -> str:
    return f"sum({sel(metric)})"


def clock_row(clock: Clock) -> list:
    queries, colors = [], {}
    if clock.open_metric:
        queries.append(Query(_total(clock.open_metric), clock.open_label))
        colors[clock.open_label] = BLUE
    if clock.due_soon_metric:
        queries.append(Query(_total(clock.due_soon_metric), clock.due_soon_label))
        colors[clock.due_soon_label] = YELLOW
    queries.append(Query(_total(clock.overdue_metric), clock.overdue_label))
    colors[clock.overdue_label] = RED
    return [
        row(clock.title),
        timeseries_panel(
            f"{clock.name} över tid",
            clock.rule + " Summa för valda enheter över tid.",
            COUNT, queries, colors=colors, span=16, decimals=0,
        ),
        bargauge_panel(
            f"{clock.name} per enhet: {clock.overdue_label}",
            clock.rule + " Antal just nu per enhet; rött vid minst ett ärende.",
            COUNT, [Query(per_unit("sum", clock.overdue_metric), UNIT_LEGEND)],
            steps=any_is_bad(), span=8, decimals=0,
        ),
    ]


def ivo_row() -> list:
    reportable = "casewatch_decisions_reportable"
    return [
        row("Rapportering till IVO"),
        stat_panel(
            "Beslut att rapportera till IVO",
            "Gynnande beslut som inte verkställts inom 3 månader (eller avbrutits i minst 3 månader) "
            "och ska rapporteras till IVO i nästa kvartalsrapport. Summa för valda enheter.",
            COUNT, [Query(_total(reportable), "Antal")], steps=any_is_bad(), span=8, decimals=0,
        ),
        timeseries_panel(
            "Beslut att rapportera till IVO per enhet",
            "Rapporteringspliktiga ej verkställda beslut per enhet över tid.",
            COUNT, [Query(per_unit("sum", reportable), UNIT_LEGEND)],
            steps=any_is_bad(), span=16, decimals=0,
        ),
    ]


def build(limits: Mapping[str, float]) -> dashboard.Dashboard:
    del limits  # the legal clocks' limits live with the clocks (streams/core/clocks.py), not here
    builder = new_dashboard(
        UID_SUFFIX, TITLE,
        "Varje lagstadgad tidsgräns: hur många ärenden som är öppna, snart försenade och försenade, "
        "samt beslut som ska rapporteras till IVO.")
    return assemble(builder, ivo_row(), *(clock_row(clock) for clock in CLOCKS))
