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

from dataclasses import dataclass, field

import yaml

from streams.core.clocks import DEFAULT_CLOCKS, ClockRule

from streams.thresholds import KINDS

from .config import DEFAULT_CONFIG, MixinConfig

SEVERITIES = ("page", "ticket", "info")
UNIT = ("municipality", "unit")


# ------------------------------------------------------------------ PromQL fragments


def sel(cfg: MixinConfig, metric: str, **matchers: str) -> str:
    labels = [f'job="{cfg.exporter_job}"'] + [f'{k}="{v}"' for k, v in matchers.items()]
    return f"{metric}{{{', '.join(labels)}}}"


def unit_max(cfg: MixinConfig, metric: str) -> str:
    """One series per (municipality, unit); ``max`` de-duplicates redundant exporters."""
    return f"max by (municipality, unit) ({sel(cfg, metric)})"


def threshold(cfg: MixinConfig, kind: str) -> str:
    if kind not in KINDS:
        raise KeyError(f"unknown threshold kind {kind!r}")
    return f"max by (municipality, unit) ({sel(cfg, 'casewatch_threshold', kind=kind)})"


def placement_cost(cfg: MixinConfig) -> str:
    return (
        "sum by (municipality, unit) (max by (municipality, unit, placement_type) "
        f"({sel(cfg, 'casewatch_month_placement_cost_sek')}))"
    )


def budget(cfg: MixinConfig, category: str) -> str:
    return f"max by (municipality, unit) ({sel(cfg, 'casewatch_budget_month_to_date_sek', category=category)})"


def budget_deviation(cfg: MixinConfig, cost_expr: str, category: str) -> str:
    """cost / budget pace - 1: > 0 is over budget (yellow up to budget_deviation_pct, red beyond)."""
    return f"{cost_expr}\n/ on (municipality, unit)\n({budget(cfg, category)} > 0)\n- 1"


def inflow_ratio(cfg: MixinConfig) -> str:
    return (
        f"{unit_max(cfg, 'casewatch_reports_received_last_7d')}\n/ on (municipality, unit)\n"
        f"({unit_max(cfg, 'casewatch_reports_received_weekly_mean_12w')} > 0)"
    )


def stockholm_summer_time() -> str:
    """Non-empty while Europe/Stockholm keeps CEST (UTC+2): from the last Sunday of March 01:00
    UTC to the last Sunday of October 01:00 UTC (EU rule). ``day_of_month() - day_of_week()`` is
    the date of the latest Sunday (today if Sunday); it is >= 25 once the month's last Sunday came."""
    last_sunday_passed = "(day_of_month() - day_of_week()) >= 25"
    return (
        "(month() > 3 and month() < 10)\n"
        f"or (month() == 3 and {last_sunday_passed} and (day_of_week() > 0 or hour() >= 1))\n"
        "or (month() == 10 and ((day_of_month() - day_of_week()) < 25 or (day_of_week() == 0 and hour() < 1)))"
    )


def stockholm_offset_hours() -> str:
    return f"(vector(2) and on () (\n{_indent(stockholm_summer_time())}\n)) or vector(1)"


def office_hours(cfg: MixinConfig) -> str:
    """Non-empty (value 1) on weekdays between office_hours_start and _end, Stockholm local time.
    The local hour cannot wrap past midnight inside 08-17, so UTC day_of_week() is the local day.
    Public holidays are not modelled here (Alertmanager's time intervals handle the fixed ones)."""
    local_hour = f"(hour() + on () ({stockholm_offset_hours()}))"
    return (
        f"(vector(1) and on () ({local_hour} >= {cfg.office_hours_start} < {cfg.office_hours_end}))\n"
        "and on () (day_of_week() >= 1 <= 5)"
    )


def _indent(text: str, n: int = 2) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())


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


# ------------------------------------------------------------------ alerts


@dataclass(frozen=True)
class Alert:
    name: str
    severity: str
    expr: str
    for_: str
    summary_sv: str
    summary_en: str
    what_sv: str  # sentence after "Enhet X (M): "; {n} is the formatted value
    what_en: str
    value_format: str = "{{ $value }}"
    pipeline: bool = False
    stale_data: bool = False  # firing means unit figures are stale: inhibits unit alerts
    extra_labels: dict[str, str] = field(default_factory=dict)
    unit_scoped: bool = True

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.name}: severity must be one of {SEVERITIES}")


def _law(rule: ClockRule) -> str:
    new = f"SoL (2025:400) {rule.sol_2025_400}" if rule.sol_2025_400 else "motsv. SoL (2025:400)"
    return f"SoL (2001:453) {rule.sol_2001_453} / {new}"


def _dur_sv(amount: int, unit: str) -> str:
    names = {"hours": ("timme", "timmar"), "days": ("dag", "dagar"), "months": ("månad", "månader")}
    return f"{amount} {names[unit][amount != 1]}"


def _dur_en(amount: int, unit: str) -> str:
    return f"{amount} {unit[:-1] if amount == 1 else unit}"


def _threshold_value(cfg: MixinConfig, kind: str, fmt: str = "{{ . | first | value }}") -> str:
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
    d = {r: (_dur_sv(r.duration.amount, r.duration.unit), _dur_en(r.duration.amount, r.duration.unit))
         for r in (prot, scr, inv, enf)}
    n_kinds = n_kinds or len(KINDS)
    n = "{{ $value }}"

    def over(metric: str, kind: str) -> str:
        return f"{unit_max(cfg, metric)}\n> on (municipality, unit)\n{threshold(cfg, kind)}"

    def limit(kind: str) -> str:
        return _threshold_value(cfg, kind)

    out = [
        # ---- legal clocks
        Alert(
            "CasewatchProtectionAssessmentOverdue", "page",
            f"{unit_max(cfg, 'casewatch_protection_assessments_overdue')} > 0", cfg.for_page,
            "Skyddsbedömning saknas efter 24 timmar", "Protection assessment missing after 24 hours",
            f"{n} orosanmälningar om barn saknar skyddsbedömning efter {d[prot][0]} (ska göras genast).",
            f"{n} reports of concern about a child have no protection assessment after {d[prot][1]} "
            "(due at once).",
        ),
        Alert(
            "CasewatchScreeningOverdue", "page",
            f"{unit_max(cfg, 'casewatch_reports_screening_overdue')} > 0", cfg.for_page,
            f"Förhandsbedömning över {d[scr][0]}", f"Screening past the {scr.duration.amount}-day limit",
            f"{n} förhandsbedömningar har passerat {d[scr][0]} ({_law(scr)}).",
            f"{n} screenings past the {scr.duration.amount}-day limit.",
        ),
        Alert(
            "CasewatchInvestigationOverdue", "ticket",
            f"{unit_max(cfg, 'casewatch_investigations_overdue')} > 0", cfg.for_ticket,
            f"Utredning över {d[inv][0]}", f"Investigation past {d[inv][1]}",
            f"{n} barnutredningar har passerat {d[inv][0]} utan beslut om förlängning ({_law(inv)}).",
            f"{n} child investigations past {d[inv][1]} without an extension decision.",
        ),
        Alert(
            "CasewatchDecisionReportableToIVO", "ticket",
            f"{unit_max(cfg, 'casewatch_decisions_reportable')} > 0", cfg.for_ticket,
            "Ej verkställda beslut ska rapporteras till IVO", "Non-enforced decisions reportable to IVO",
            f"{n} gynnande beslut är inte verkställda efter {d[enf][0]} och ska rapporteras till IVO "
            f"({_law(enf)}).",
            f"{n} favourable decisions not enforced after {d[enf][1]}, reportable to IVO.",
        ),
        Alert(
            "CasewatchScreeningDueSoon", "info",
            f"{unit_max(cfg, 'casewatch_reports_screening_due_soon')} > 0", cfg.for_info,
            "Förhandsbedömningar nära 14-dagarsgränsen", "Screenings close to the 14-day limit",
            f"{n} förhandsbedömningar har mindre än {_dur_sv(scr.warn_before.amount, 'days')} kvar "
            f"till {scr.duration.amount}-dagarsgränsen.",
            f"{n} screenings have less than {_dur_en(scr.warn_before.amount, 'days')} left before the "
            f"{scr.duration.amount}-day limit.",
        ),
        Alert(
            "CasewatchInvestigationDueSoon", "info",
            f"{unit_max(cfg, 'casewatch_investigations_due_soon')} > 0", cfg.for_info,
            f"Utredningar nära {d[inv][0]}", f"Investigations close to {d[inv][1]}",
            f"{n} barnutredningar har mindre än {_dur_sv(inv.warn_before.amount, 'months')} kvar till "
            f"gränsen på {d[inv][0]}; besluta om förlängning eller avslut.",
            f"{n} child investigations have less than {_dur_en(inv.warn_before.amount, 'months')} left "
            f"before {d[inv][1]}; decide on extension or closure.",
        ),
        Alert(
            "CasewatchDecisionEnforcementDueSoon", "info",
            f"{unit_max(cfg, 'casewatch_decisions_due_soon')} > 0", cfg.for_info,
            "Beslut nära IVO-rapportering", "Decisions close to IVO reporting",
            f"{n} gynnande beslut blir rapporteringspliktiga till IVO inom "
            f"{_dur_sv(enf.warn_before.amount, 'months')} om de inte verkställs.",
            f"{n} favourable decisions become reportable to IVO within "
            f"{_dur_en(enf.warn_before.amount, 'months')} unless enforced.",
        ),
        # ---- backlogs and capacity against per-unit thresholds
        Alert(
            "CasewatchScreeningBacklogHigh", "ticket",
            over("casewatch_reports_awaiting_screening", "reports_awaiting_screening_max"), cfg.for_ticket,
            "Många orosanmälningar väntar på förhandsbedömning", "Screening backlog above threshold",
            f"{n} orosanmälningar väntar på förhandsbedömning (gränsvärde {limit('reports_awaiting_screening_max')}).",
            f"{n} reports awaiting screening (threshold {limit('reports_awaiting_screening_max')}).",
        ),
        Alert(
            "CasewatchInvestigationBacklogHigh", "ticket",
            over("casewatch_investigations_open", "investigations_open_max"), cfg.for_ticket,
            "Många pågående utredningar", "Open investigations above threshold",
            f"{n} pågående utredningar (gränsvärde {limit('investigations_open_max')}).",
            f"{n} open investigations (threshold {limit('investigations_open_max')}).",
        ),
        Alert(
            "CasewatchDecisionsNotEnforcedHigh", "ticket",
            over("casewatch_decisions_not_enforced", "decisions_not_enforced_max"), cfg.for_ticket,
            "Många ej verkställda beslut", "Non-enforced decisions above threshold",
            f"{n} gynnande beslut väntar på verkställighet (gränsvärde {limit('decisions_not_enforced_max')}).",
            f"{n} favourable decisions await enforcement (threshold {limit('decisions_not_enforced_max')}).",
        ),
        Alert(
            "CasewatchCaseloadHigh", "ticket",
            over("casewatch_caseload_per_social_worker", "caseload_per_social_worker_max"), cfg.for_ticket,
            "Hög ärendebelastning per socialsekreterare", "Caseload per social worker above threshold",
            f"{n} pågående utredningar per socialsekreterare (heltid) (gränsvärde "
            f"{limit('caseload_per_social_worker_max')}).",
            f"{n} open investigations per social worker FTE (threshold "
            f"{limit('caseload_per_social_worker_max')}).",
            value_format='{{ printf "%.1f" $value }}',
        ),
        Alert(
            "CasewatchConsultantShareHigh", "ticket",
            over("casewatch_consultant_share_ratio", "consultant_share_max"), cfg.for_ticket,
            "Hög andel inhyrda konsulter", "Consultant share above target",
            f"Konsulter utgör {n} av bemanningen (heltid) (mål högst "
            f"{_threshold_value(cfg, 'consultant_share_max', '{{ . | first | value | humanizePercentage }}')}).",
            f"Consultants are {n} of staff FTE (target at most "
            f"{_threshold_value(cfg, 'consultant_share_max', '{{ . | first | value | humanizePercentage }}')}).",
            value_format="{{ $value | humanizePercentage }}",
        ),
        Alert(
            "CasewatchInflowSpike", "ticket",
            f"{inflow_ratio(cfg)}\n> on (municipality, unit)\n{threshold(cfg, 'inflow_spike_ratio')}\n"
            f"and on (municipality, unit)\n{unit_max(cfg, 'casewatch_reports_received_last_7d')}\n"
            f">= on (municipality, unit)\n{threshold(cfg, 'inflow_spike_min_reports')}",
            cfg.for_ticket,
            "Ovanligt många orosanmälningar", "Inflow of reports far above normal",
            f"Inflödet de senaste 7 dagarna är {n} gånger veckosnittet för de 12 veckorna före "
            f"(gränsvärde {limit('inflow_spike_ratio')}).",
            f"Reports in the last 7 days are {n} times the weekly mean of the 12 weeks before "
            f"(threshold {limit('inflow_spike_ratio')}).",
            value_format='{{ printf "%.1f" $value }}',
        ),
        Alert(
            "CasewatchPlacementCostAboveBudgetPace", "info",
            f"{budget_deviation(cfg, placement_cost(cfg), 'placements')}\n> 0\n"
            f"and on (municipality, unit)\n{budget_deviation(cfg, placement_cost(cfg), 'placements')}\n"
            f"<= on (municipality, unit)\n({threshold(cfg, 'budget_deviation_pct')} / 100)",
            cfg.for_info,
            "Placeringskostnad över budget (gul)", "Placement cost above budget pace (yellow)",
            f"Placeringskostnaden hittills i månaden ligger {n} över budget (gul: högst "
            f"{limit('budget_deviation_pct')} % avvikelse).",
            f"Month-to-date placement cost is {n} above budget pace (yellow: at most "
            f"{limit('budget_deviation_pct')} % deviation).",
            value_format="{{ $value | humanizePercentage }}",
            extra_labels={"colour": "yellow"},
        ),
        Alert(
            "CasewatchPlacementCostFarAboveBudgetPace", "ticket",
            f"{budget_deviation(cfg, placement_cost(cfg), 'placements')}\n"
            f"> on (municipality, unit)\n({threshold(cfg, 'budget_deviation_pct')} / 100)",
            cfg.for_ticket,
            "Placeringskostnad långt över budget (röd)", "Placement cost far above budget pace (red)",
            f"Placeringskostnaden hittills i månaden ligger {n} över budget (röd: mer än "
            f"{limit('budget_deviation_pct')} % avvikelse).",
            f"Month-to-date placement cost is {n} above budget pace (red: more than "
            f"{limit('budget_deviation_pct')} % deviation).",
            value_format="{{ $value | humanizePercentage }}",
            extra_labels={"colour": "red"},
        ),
        # ---- configuration
        Alert(
            "CasewatchThresholdMissing", "ticket",
            f"{unit_max(cfg, 'casewatch_reports_awaiting_screening')}\nunless on (municipality, unit)\n"
            f"(count by (municipality, unit) ({sel(cfg, 'casewatch_threshold')}) >= {n_kinds})",
            cfg.threshold_missing_for,
            "Gränsvärden saknas för enheten", "Thresholds missing for the unit",
            f"exportern publicerar färre än {n_kinds} gränsvärden (casewatch_threshold); "
            "tröskellarm för enheten är blinda.",
            f"the exporter publishes fewer than {n_kinds} thresholds (casewatch_threshold); "
            "threshold alerts for the unit are blind.",
            pipeline=True,
        ),
        # ---- pipeline health (no unit label)
        Alert(
            "CasewatchExporterDown", "page",
            f'up{{job="{cfg.exporter_job}"}} == 0\nor absent(up{{job="{cfg.exporter_job}"}})',
            cfg.exporter_down_for,
            "Casewatch-exportern svarar inte", "casewatch exporter is down",
            "Prometheus kan inte skrapa exportern; alla larm om enheter är blinda.",
            "Prometheus cannot scrape the exporter; every unit alert is blind.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchWorkerDown", "page",
            f"max({sel(cfg, 'casewatch_worker_heartbeat_age_seconds')}) > {cfg.worker_heartbeat_max_age_seconds}",
            cfg.worker_down_for,
            "Casewatch-workern har slutat arbeta", "casewatch worker stopped",
            f"workerns senaste livstecken är {n} gammalt (gräns {cfg.worker_heartbeat_max_age_seconds} s); "
            "inga nya händelser behandlas och siffrorna åldras.",
            f"the worker's last heartbeat is {n} old (limit {cfg.worker_heartbeat_max_age_seconds} s); "
            "no new events are processed and the figures go stale.",
            value_format="{{ $value | humanizeDuration }}",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchRedisDown", "page",
            f"min({sel(cfg, 'casewatch_redis_up')}) == 0",
            cfg.redis_down_for,
            "Exportern når inte Redis", "Exporter cannot reach Redis",
            "exportern når inte Redis; nyckeltalen kan inte läsas.",
            "the exporter cannot reach Redis; no KPI can be read.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchConsumerLagGrowing", "ticket",
            f"max({sel(cfg, 'casewatch_consumer_lag_messages')}) > {cfg.consumer_lag_floor_messages}\n"
            f"and on ()\nmax(deriv({sel(cfg, 'casewatch_consumer_lag_messages')}[{cfg.consumer_lag_window}])) > 0",
            cfg.consumer_lag_for,
            "Workern ligger efter och kön växer", "Worker falling behind, lag growing",
            f"{n} händelser väntar i Kafka och kön har vuxit under {cfg.consumer_lag_window} "
            f"(golv {cfg.consumer_lag_floor_messages}).",
            f"{n} events wait in Kafka and the lag grew over {cfg.consumer_lag_window} "
            f"(floor {cfg.consumer_lag_floor_messages}).",
            value_format="{{ $value | humanize }}",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchEventsRejected", "ticket",
            f"sum by (reason) (increase({sel(cfg, 'casewatch_events_rejected_total')}[{cfg.rejected_window}])) > 0",
            "0s",
            "Händelser avvisade till dead-letter", "Events dead-lettered",
            f"{n} händelser avvisades de senaste {cfg.rejected_window} med orsak "
            "{{ $labels.reason }}.",
            f"{n} events rejected in the last {cfg.rejected_window} with reason {{{{ $labels.reason }}}}.",
            value_format='{{ printf "%.0f" $value }}',
            pipeline=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchNoEventsDuringOfficeHours", "ticket",
            f"sum(increase({sel(cfg, 'casewatch_events_total')}[{cfg.no_events_window}])) == 0\n"
            f"and on ()\n{office_hours(cfg)}",
            cfg.no_events_for,
            "Inga händelser under kontorstid", "No events during office hours",
            f"inga händelser har kommit in de senaste {cfg.no_events_window} under kontorstid "
            f"(vardagar {cfg.office_hours_start:02d}-{cfg.office_hours_end:02d} svensk tid); "
            "kontrollera källsystemens export.",
            f"no events arrived in the last {cfg.no_events_window} during office hours "
            f"(weekdays {cfg.office_hours_start:02d}-{cfg.office_hours_end:02d} Stockholm time); "
            "check the source systems' export.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
    ]
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise ValueError("duplicate alert names")
    return out


def alert_rule(a: Alert, cfg: MixinConfig) -> dict:
    value = a.value_format
    what_sv = a.what_sv.replace("{{ $value }}", value)
    what_en = a.what_en.replace("{{ $value }}", value)
    if a.unit_scoped:
        who_sv = "Enhet {{ $labels.unit }} ({{ $labels.municipality }}): "
        who_en = "Unit {{ $labels.unit }} ({{ $labels.municipality }}): "
        summary = (f"{a.summary_sv} i {{{{ $labels.unit }}}} ({{{{ $labels.municipality }}}}) / "
                   f"{a.summary_en} in {{{{ $labels.unit }}}} ({{{{ $labels.municipality }}}})")
        link = f"\nInstrumentpanel / Dashboard: {cfg.dashboard_url()}"
    else:
        who_sv, who_en = "Casewatch: ", "casewatch: "
        summary = f"{a.summary_sv} / {a.summary_en}"
        link = ""
    description = (
        f"{who_sv}{what_sv} Gäller sedan minst {a.for_}.\n"
        f"{who_en}{what_en} True for at least {a.for_}.{link}"
    )
    labels = {"severity": a.severity}
    if a.pipeline:
        labels["pipeline"] = "true"
    if a.stale_data:
        labels["stale_data"] = "true"
    labels.update(a.extra_labels)
    rule = {"alert": a.name, "expr": a.expr}
    if a.for_ != "0s":
        rule["for"] = a.for_
    rule["labels"] = labels
    rule["annotations"] = {
        "summary": summary,
        "description": description,
        "runbook_url": cfg.runbook_url(a.name),
    }
    return rule


# ------------------------------------------------------------------ YAML


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)


HEADER = "# Generated by `casewatch generate` from dashboards/rules.py. Do not edit.\n"


def render_recording_rules(cfg: MixinConfig = DEFAULT_CONFIG) -> str:
    groups = [
        {"name": name, "rules": [{"record": r.record, "expr": r.expr} for r in rules]}
        for name, rules in recording_rules(cfg)
    ]
    return HEADER + dump({"groups": groups})


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
