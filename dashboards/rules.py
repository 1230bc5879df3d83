"""Recording and alerting rules, generated from one place.

Every selector comes from :class:`~dashboards.config.MixinConfig`; no per-unit number appears in
a rule: backlog, caseload, staffing, inflow and budget alerts compare against the exporter's
``casewatch_threshold{kind=...}`` series with ``on(municipality, unit)``, so a unit head's
threshold change (``thresholds.yaml``) reaches the alerts at the next scrape without a rule edit.

Alerts inline the same PromQL fragments the recording rules record (``unit_max`` etc.) instead
of reading the recorded series: rule groups are evaluated independently, so reading another
group's output could add one evaluation interval to a page's delay (DESIGN.md, delay budget).
"""
from __future__ import annotations

from dataclasses import dataclass

from streams.core.clocks import DEFAULT_CLOCKS, ClockRule
from streams.swedish import SPACE
from streams.thresholds import KINDS

from . import alert_text
from .alert_model import (DECIMAL, HEADER, PERCENT, SEVERITIES, WHOLE, Alert, alert_rule, count_of, dump,  # noqa: F401
                          dur_sv, last_sv)
from .config import DEFAULT_CONFIG, MixinConfig
from .pipeline_alerts import pipeline_alerts
from .promql import (budget, budget_deviation, inflow_ratio, office_hours, placement_cost, sel,  # noqa: F401
                     stockholm_offset_hours, stockholm_summer_time, threshold, unit_max)

UNIT = ("municipality", "unit")

# ------------------------------------------------------------------ recording rules


UNIT_GAUGES = (
    "casewatch_reports_awaiting_screening",
    "casewatch_reports_screening_overdue",
    "casewatch_reports_screening_due_soon",
    "casewatch_protection_assessments_overdue",
    "casewatch_investigations_open",
    "casewatch_investigations_overdue",
    "casewatch_investigations_due_soon",
    "casewatch_decisions_not_enforced",
    "casewatch_decisions_reportable",
    "casewatch_decisions_due_soon",
    "casewatch_consultant_share_ratio",
    "casewatch_caseload_per_social_worker",
    "casewatch_reports_received_last_7d",
    "casewatch_reports_received_weekly_mean_12w",
    "casewatch_month_consultant_cost_sek",
    "casewatch_month_payments_sek",
)


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str
    labels: dict[str, str] | None = None


def recording_rules(cfg: MixinConfig = DEFAULT_CONFIG) -> list[tuple[str, list[Recording]]]:
    """(group name, rules). Dashboards read these names; alerts inline the same expressions."""
    unit = [Recording(f"municipality_unit:{m}:max", unit_max(cfg, m)) for m in UNIT_GAUGES]
    unit += [
        Recording(
            "municipality_unit_kind:casewatch_threshold:max",
            f"max by (municipality, unit, kind) ({sel(cfg, 'casewatch_threshold')})",
        ),
        Recording(
            "municipality_unit_category:casewatch_budget_month_to_date_sek:max",
            f"max by (municipality, unit, category) ({sel(cfg, 'casewatch_budget_month_to_date_sek')})",
        ),
        Recording("municipality_unit:casewatch_month_placement_cost_sek:sum", placement_cost(cfg)),
        Recording(
            "municipality_unit:casewatch_placement_cost_budget_deviation:ratio",
            budget_deviation(cfg, placement_cost(cfg), "placements"),
        ),
        Recording(
            "municipality_unit:casewatch_consultant_cost_budget_deviation:ratio",
            budget_deviation(cfg, unit_max(cfg, "casewatch_month_consultant_cost_sek"), "consultants"),
        ),
        Recording(
            "municipality_unit:casewatch_payments_budget_deviation:ratio",
            budget_deviation(cfg, unit_max(cfg, "casewatch_month_payments_sek"), "economic_assistance"),
        ),
        Recording("municipality_unit:casewatch_reports_received:ratio_7d_vs_12w", inflow_ratio(cfg)),
        Recording(
            "municipality_unit:casewatch_consultant_share:ratio_vs_max",
            f"{unit_max(cfg, 'casewatch_consultant_share_ratio')}\n/ on (municipality, unit)\n"
            f"({threshold(cfg, 'consultant_share_max')} > 0)",
        ),
    ]
    pipeline = [
        Recording(
            "outcome:casewatch_events:rate5m",
            f"sum by (outcome) (rate({sel(cfg, 'casewatch_events_total')}[5m]))",
        ),
        Recording(
            "reason:casewatch_events_rejected:increase1h",
            f"sum by (reason) (increase({sel(cfg, 'casewatch_events_rejected_total')}[1h]))",
        ),
        Recording("casewatch:europe_stockholm_utc_offset:hours", stockholm_offset_hours()),
        Recording("casewatch:office_hours:bool", f"({office_hours(cfg)}) or vector(0)"),
    ]
    return [("casewatch.unit.recording", unit), ("casewatch.pipeline.recording", pipeline)]


def reference_rules() -> list[Recording]:
    """Reference data for texts, not figures: the municipality names the alerts and the Grafana
    drop-down look up (``alert_text.municipality_info_rules``), in a file of their own
    (``rules/reference.yaml``) so a promtool test of alerts loads 290 constants, not every recording."""
    return [Recording(record, "vector(1)", labels) for record, labels in alert_text.municipality_info_rules()]



# ------------------------------------------------------------------ alerts


def _law(rule: ClockRule) -> str:
    new = f"SoL (2025:400) {rule.sol_2025_400}" if rule.sol_2025_400 else "motsvarande bestämmelse i SoL (2025:400)"
    return f"SoL (2001:453) {rule.sol_2001_453}; {new}"


def _threshold_value(cfg: MixinConfig, kind: str, fmt: str = alert_text.number(". | first | value")) -> str:
    """Template text printing the unit's current threshold of ``kind`` (a query at alert time)."""
    query = (
        f'casewatch_threshold{{job="{cfg.exporter_job}",kind="{kind}",'
        'municipality="%s",unit="%s"}'
    )
    return (
        f"{{{{ with printf `{query}` $labels.municipality $labels.unit | query }}}}"
        f"{fmt}{{{{ else }}}}?{{{{ end }}}}"
    )


def alerts(cfg: MixinConfig = DEFAULT_CONFIG, n_kinds: int | None = None) -> list[Alert]:
    c = DEFAULT_CLOCKS
    prot, scr, inv, enf = c.protection, c.screening, c.investigation, c.enforcement
    d = {r: dur_sv(r.duration.amount, r.duration.unit) for r in (prot, scr, inv, enf)}
    link = dur_sv(c.link_window.amount, c.link_window.unit)
    n_kinds = n_kinds or len(KINDS)
    n = "{{ $value }}"
    reports = count_of("orosanmälan", "orosanmälningar")
    child_investigations = count_of("barnutredning", "barnutredningar")

    def over(metric: str, kind: str) -> str:
        return f"{unit_max(cfg, metric)}\n> on (municipality, unit)\n{threshold(cfg, kind)}"

    def limit(kind: str) -> str:
        return _threshold_value(cfg, kind)

    def limit_pct(kind: str) -> str:
        return _threshold_value(cfg, kind, alert_text.percent(". | first | value"))

    # the placement cost's deviation from the budget pace, and its two colours' words
    pace = budget_deviation(cfg, placement_cost(cfg), "placements")
    pace_limit = f"({threshold(cfg, 'budget_deviation_pct')} / 100)"

    def pace_text(colour: str, bound: str) -> str:
        return (f"Placeringskostnaden hittills i månaden ligger {n} över budgettakten ({colour}: {bound} "
                f"{limit('budget_deviation_pct')}{SPACE}% avvikelse).")

    out = [
        # ---- legal clocks
        Alert(
            "CasewatchProtectionAssessmentOverdue", "page",
            f"{unit_max(cfg, 'casewatch_protection_assessments_overdue')} > 0", cfg.for_page,
            f"Skyddsbedömning saknas efter {d[prot]}", f"{reports}",
            f"{reports} om barn saknar skyddsbedömning mer än {d[prot]} efter ankomsten; "
            "den ska göras genast. Socialjouren gör skyddsbedömningen nu.",
            since="protection",
        ),
        Alert(
            "CasewatchScreeningOverdue", "page",
            f"{unit_max(cfg, 'casewatch_reports_screening_overdue')} > 0", cfg.for_page,
            f"Förhandsbedömning över {d[scr]}", f"{reports}",
            f"{reports} har väntat mer än {d[scr]} på förhandsbedömning ({_law(scr)}).",
            since="screening",
        ),
        Alert(
            "CasewatchInvestigationOverdue", "ticket",
            f"{unit_max(cfg, 'casewatch_investigations_overdue')} > 0", cfg.for_ticket,
            f"Barnutredning över {d[inv]}", f"{child_investigations}",
            f"{child_investigations} har passerat {d[inv]} utan beslut om förlängd utredningstid ({_law(inv)}).",
            since="investigation",
        ),
        Alert(
            "CasewatchInvestigationLinkedOpen", "ticket",
            f"{unit_max(cfg, 'casewatch_investigations_linked_open')} > 0", cfg.for_ticket,
            "Barnutredning öppnad igen", f"{child_investigations}",
            f"{child_investigations} har öppnats igen inom {link} efter avslut utan insats; tidsfristen "
            "räknas från den första utredningen.",
        ),
        Alert(
            "CasewatchDecisionReportableToIVO", "ticket",
            f"{unit_max(cfg, 'casewatch_decisions_reportable')} > 0", cfg.for_ticket,
            "Ej verkställda beslut ska rapporteras till IVO", f"{n} beslut",
            f"{n} gynnande beslut är inte verkställda efter {d[enf]} och ska rapporteras till IVO ({_law(enf)}).",
            since="enforcement",
        ),
        Alert(
            "CasewatchScreeningDueSoon", "info",
            f"{unit_max(cfg, 'casewatch_reports_screening_due_soon')} > 0", cfg.for_info,
            f"Förhandsbedömningar nära {scr.duration.amount}-dagarsgränsen", f"{reports}",
            f"{reports} har mindre än {dur_sv(scr.warn_before.amount, 'days')} kvar "
            f"till {scr.duration.amount}-dagarsgränsen för förhandsbedömning.",
        ),
        Alert(
            "CasewatchInvestigationDueSoon", "info",
            f"{unit_max(cfg, 'casewatch_investigations_due_soon')} > 0", cfg.for_info,
            f"Barnutredningar nära {d[inv]}", f"{child_investigations}",
            f"{child_investigations} har mindre än {dur_sv(inv.warn_before.amount, 'months')} kvar till "
            f"gränsen på {d[inv]}; besluta om förlängd utredningstid eller avsluta.",
        ),
        Alert(
            "CasewatchDecisionEnforcementDueSoon", "info",
            f"{unit_max(cfg, 'casewatch_decisions_due_soon')} > 0", cfg.for_info,
            "Beslut nära rapportering till IVO", f"{n} beslut",
            f"{n} gynnande beslut blir rapporteringspliktiga till IVO inom "
            f"{dur_sv(enf.warn_before.amount, 'months')} om de inte verkställs.",
        ),
        Alert(
            "CasewatchIvoReportableThisQuarter", "info",
            f"sum by (municipality, unit) (max by (municipality, unit, kind) "
            f"({sel(cfg, 'casewatch_ivo_due_this_quarter')})) > 0", cfg.for_info,
            "Blir rapporteringspliktiga till IVO detta kvartal", f"{n} beslut",
            f"{n} gynnande beslut eller avbrott i verkställigheten blir rapporteringspliktiga till IVO "
            "före kvartalets slut om de inte verkställs.",
        ),
        # ---- backlogs and capacity against per-unit thresholds
        Alert(
            "CasewatchScreeningBacklogHigh", "ticket",
            over("casewatch_reports_awaiting_screening", "reports_awaiting_screening_max"), cfg.for_ticket,
            "Många orosanmälningar väntar på förhandsbedömning", f"{n} orosanmälningar",
            f"{n} orosanmälningar väntar på förhandsbedömning (gränsvärde {limit('reports_awaiting_screening_max')}).",
        ),
        Alert(
            "CasewatchInvestigationBacklogHigh", "ticket",
            over("casewatch_investigations_open", "investigations_open_max"), cfg.for_ticket,
            "Många pågående utredningar", f"{n} utredningar",
            f"{n} pågående utredningar (gränsvärde {limit('investigations_open_max')}).",
        ),
        Alert(
            "CasewatchDecisionsNotEnforcedHigh", "ticket",
            over("casewatch_decisions_not_enforced", "decisions_not_enforced_max"), cfg.for_ticket,
            "Många ej verkställda beslut", f"{n} beslut",
            f"{n} gynnande beslut väntar på verkställighet (gränsvärde {limit('decisions_not_enforced_max')}).",
        ),
        Alert(
            "CasewatchCaseloadHigh", "ticket",
            over("casewatch_caseload_per_social_worker", "caseload_per_social_worker_max"), cfg.for_ticket,
            "Många pågående utredningar per socialsekreterare", f"{n} per årsarbetare",
            f"{n} pågående utredningar per socialsekreterare, räknat i årsarbetare (gränsvärde "
            f"{limit('caseload_per_social_worker_max')}).",
            value_format=DECIMAL,
        ),
        Alert(
            "CasewatchConsultantShareHigh", "ticket",
            over("casewatch_consultant_share_ratio", "consultant_share_max"), cfg.for_ticket,
            "Hög andel inhyrda konsulter", f"{n} av årsarbetarna",
            f"Inhyrda konsulter utgör {n} av årsarbetarna (mål högst {limit_pct('consultant_share_max')}).",
            value_format=PERCENT,
        ),
        Alert(
            "CasewatchInflowSpike", "ticket",
            f"{inflow_ratio(cfg)}\n> on (municipality, unit)\n{threshold(cfg, 'inflow_spike_ratio')}\n"
            f"and on (municipality, unit)\n{unit_max(cfg, 'casewatch_reports_received_last_7d')}\n"
            f">= on (municipality, unit)\n{threshold(cfg, 'inflow_spike_min_reports')}",
            cfg.for_ticket,
            "Ovanligt många orosanmälningar", f"{n} gånger en normal vecka",
            f"Orosanmälningarna de senaste 7 dagarna är {n} gånger veckosnittet för de 12 veckorna före "
            f"(gränsvärde {limit('inflow_spike_ratio')}).",
            value_format=DECIMAL,
        ),
        Alert(
            "CasewatchPlacementCostAboveBudgetPace", "info",
            f"{pace}\n> 0\nand on (municipality, unit)\n{pace}\n<= on (municipality, unit)\n{pace_limit}",
            cfg.for_info,
            "Placeringskostnad över budget (gul)", f"{n} över budgettakten", pace_text("gul", "högst"),
            value_format=PERCENT,
            extra_labels={"colour": "yellow"},
        ),
        Alert(
            "CasewatchPlacementCostFarAboveBudgetPace", "ticket",
            f"{pace}\n> on (municipality, unit)\n{pace_limit}",
            cfg.for_ticket,
            "Placeringskostnad långt över budget (röd)", f"{n} över budgettakten", pace_text("röd", "mer än"),
            value_format=PERCENT,
            extra_labels={"colour": "red"},
        ),
        # ---- configuration
        Alert(
            "CasewatchThresholdMissing", "ticket",
            f"{unit_max(cfg, 'casewatch_reports_awaiting_screening')}\nunless on (municipality, unit)\n"
            f"(count by (municipality, unit) ({sel(cfg, 'casewatch_threshold')}) >= {n_kinds})",
            cfg.threshold_missing_for,
            "Gränsvärden saknas", "",
            f"Publiceringstjänsten har färre än {n_kinds} gränsvärden för enheten, så larm om balanser för "
            "enheten kan utebli.",
            pipeline=True,
        ),
        *pipeline_alerts(cfg),
    ]
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise ValueError("duplicate alert names")
    return out


# ------------------------------------------------------------------ YAML


def render_recording_rules(cfg: MixinConfig = DEFAULT_CONFIG) -> str:
    groups = [
        {"name": name, "rules": [{"record": r.record, "expr": r.expr} for r in rules]}
        for name, rules in recording_rules(cfg)
    ]
    return HEADER + dump({"groups": groups})


def render_reference_rules() -> str:
    rules = [{"record": r.record, "expr": r.expr, "labels": r.labels} for r in reference_rules()]
    # Evaluated at the global interval like every group: a longer one would leave the names missing
    # for up to that long after Prometheus starts (the first evaluation is staggered).
    return HEADER + dump({"groups": [{"name": "casewatch.reference", "rules": rules}]})


def render_alert_rules(cfg: MixinConfig = DEFAULT_CONFIG) -> str:
    all_alerts = alerts(cfg)
    groups = []
    for name, pick in (
        ("casewatch.legal-clocks", lambda a: a.name.endswith(("Overdue", "ToIVO", "DueSoon"))),
        ("casewatch.capacity", lambda a: a.unit_scoped and not a.pipeline
         and not a.name.endswith(("Overdue", "ToIVO", "DueSoon"))),
        ("casewatch.pipeline", lambda a: a.pipeline),
    ):
        groups.append({"name": name, "rules": [alert_rule(a, cfg) for a in all_alerts if pick(a)]})
    assert sum(len(g["rules"]) for g in groups) == len(all_alerts)
    return HEADER + dump({"groups": groups})


def alert_names(cfg: MixinConfig = DEFAULT_CONFIG) -> list[str]:
    return [a.name for a in alerts(cfg)]
