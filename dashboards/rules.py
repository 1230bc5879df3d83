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
from streams.vocabulary import REJECT_REASONS_SV

from streams.thresholds import KINDS

from . import alert_text
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
    """One alert, worded in Swedish only (docs/GLOSSARY.md) for a phone's lock screen.

    The summary reads ``<title>: <headline> i <unit>[, äldsta sedan <date>]``: what, how many,
    which unit (its registry name, else its code) and, for the legal clocks, since when the
    oldest item has been late (``since`` names the exporter's clock). ``what`` is the longer
    description; ``{{ $value }}`` in ``headline``/``what`` is printed with ``value_format``."""
    name: str
    severity: str
    expr: str
    for_: str
    title: str
    headline: str  # how many, e.g. "{{ $value }} orosanmälningar"; "" for none
    what: str  # the description's sentence(s)
    value_format: str = "{{ $value }}"
    since: str | None = None  # clock of casewatch_oldest_overdue_timestamp_seconds
    pipeline: bool = False
    stale_data: bool = False  # firing means unit figures are stale: inhibits unit alerts
    extra_labels: dict[str, str] = field(default_factory=dict)
    unit_scoped: bool = True

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.name}: severity must be one of {SEVERITIES}")


def _law(rule: ClockRule) -> str:
    new = f"SoL (2025:400) {rule.sol_2025_400}" if rule.sol_2025_400 else "motsvarande bestämmelse i SoL (2025:400)"
    return f"SoL (2001:453) {rule.sol_2001_453}; {new}"


def _dur_sv(amount: int, unit: str) -> str:
    names = {"hours": ("timme", "timmar"), "days": ("dag", "dagar"), "months": ("månad", "månader"),
             "minutes": ("minut", "minuter"), "seconds": ("sekund", "sekunder")}
    return f"{amount} {names[unit][amount != 1]}"


def _last_sv(window: str) -> str:
    """A Prometheus window as Swedish words: ``15m`` → ``de senaste 15 minuterna``, ``1h`` →
    ``den senaste timmen``."""
    amount, unit = int(window[:-1]), window[-1]
    singular = {"s": "sekunden", "m": "minuten", "h": "timmen", "d": "dygnet"}
    plural = {"s": "sekunderna", "m": "minuterna", "h": "timmarna", "d": "dygnen"}
    return f"den senaste {singular[unit]}" if amount == 1 else f"de senaste {amount} {plural[unit]}"


def _threshold_value(cfg: MixinConfig, kind: str,
                     fmt: str = '{{ . | first | value | printf "%g" | reReplaceAll "\\\\." "," }}') -> str:
    """Template text printing the unit's current threshold of ``kind`` (a query at alert time)."""
    query = (
        f'casewatch_threshold{{job="{cfg.exporter_job}",kind="{kind}",'
        'municipality="%s",unit="%s"}'
    )
    return (
        f"{{{{ with printf `{query}` $labels.municipality $labels.unit | query }}}}"
        f"{fmt}{{{{ else }}}}?{{{{ end }}}}"
    )


def _reason_sv() -> str:
    """The ``reason`` label's Swedish name (streams/vocabulary.py), generated as a lookup."""
    branches = "".join(f'{{{{ {"if" if i == 0 else "else if"} eq $labels.reason "{code}" }}}}{name[0].lower() + name[1:]}'
                       for i, (code, name) in enumerate(REJECT_REASONS_SV.items()))
    return branches + "{{ else }}{{ $labels.reason }}{{ end }}"


PERCENT = '{{ $value | humanizePercentage | reReplaceAll "\\\\." "," | reReplaceAll "%" " %" }}'
DECIMAL = '{{ printf "%.1f" $value | reReplaceAll "\\\\." "," }}'
WHOLE = '{{ printf "%.0f" $value }}'


def alerts(cfg: MixinConfig = DEFAULT_CONFIG, n_kinds: int | None = None) -> list[Alert]:
    c = DEFAULT_CLOCKS
    prot, scr, inv, enf = c.protection, c.screening, c.investigation, c.enforcement
    d = {r: _dur_sv(r.duration.amount, r.duration.unit) for r in (prot, scr, inv, enf)}
    link = _dur_sv(c.link_window.amount, c.link_window.unit)
    n_kinds = n_kinds or len(KINDS)
    n = "{{ $value }}"

    def count(singular: str, plural: str) -> str:
        """``1 orosanmälan``, ``3 orosanmälningar``: the noun agrees with the count."""
        return f"{n} {{{{ if eq $value 1.0 }}}}{singular}{{{{ else }}}}{plural}{{{{ end }}}}"

    reports = count("orosanmälan", "orosanmälningar")
    child_investigations = count("barnutredning", "barnutredningar")
    events = count("händelse", "händelser")

    def over(metric: str, kind: str) -> str:
        return f"{unit_max(cfg, metric)}\n> on (municipality, unit)\n{threshold(cfg, kind)}"

    def limit(kind: str) -> str:
        return _threshold_value(cfg, kind)

    def limit_pct(kind: str) -> str:
        return _threshold_value(cfg, kind, '{{ . | first | value | humanizePercentage | reReplaceAll "\\\\." "," '
                                           '| reReplaceAll "%" " %" }}')

    minutes = (f'{{{{ with query `max({sel(cfg, "casewatch_worker_heartbeat_age_seconds")}) / 60` }}}}'
               '{{ . | first | value | printf "%.0f" }}{{ end }}')
    stale_minutes = (f'{{{{ with query `max({sel(cfg, "casewatch_projection_last_read_age_seconds")}) / 60` }}}}'
                     '{{ . | first | value | printf "%.0f" }}{{ end }}')
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
            f"{reports} har mindre än {_dur_sv(scr.warn_before.amount, 'days')} kvar "
            f"till {scr.duration.amount}-dagarsgränsen för förhandsbedömning.",
        ),
        Alert(
            "CasewatchInvestigationDueSoon", "info",
            f"{unit_max(cfg, 'casewatch_investigations_due_soon')} > 0", cfg.for_info,
            f"Barnutredningar nära {d[inv]}", f"{child_investigations}",
            f"{child_investigations} har mindre än {_dur_sv(inv.warn_before.amount, 'months')} kvar till "
            f"gränsen på {d[inv]}; besluta om förlängd utredningstid eller avsluta.",
        ),
        Alert(
            "CasewatchDecisionEnforcementDueSoon", "info",
            f"{unit_max(cfg, 'casewatch_decisions_due_soon')} > 0", cfg.for_info,
            "Beslut nära rapportering till IVO", f"{n} beslut",
            f"{n} gynnande beslut blir rapporteringspliktiga till IVO inom "
            f"{_dur_sv(enf.warn_before.amount, 'months')} om de inte verkställs.",
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
            f"{budget_deviation(cfg, placement_cost(cfg), 'placements')}\n> 0\n"
            f"and on (municipality, unit)\n{budget_deviation(cfg, placement_cost(cfg), 'placements')}\n"
            f"<= on (municipality, unit)\n({threshold(cfg, 'budget_deviation_pct')} / 100)",
            cfg.for_info,
            "Placeringskostnad över budget (gul)", f"{n} över budgettakten",
            f"Placeringskostnaden hittills i månaden ligger {n} över budgettakten (gul: högst "
            f"{limit('budget_deviation_pct')} % avvikelse).",
            value_format=PERCENT,
            extra_labels={"colour": "yellow"},
        ),
        Alert(
            "CasewatchPlacementCostFarAboveBudgetPace", "ticket",
            f"{budget_deviation(cfg, placement_cost(cfg), 'placements')}\n"
            f"> on (municipality, unit)\n({threshold(cfg, 'budget_deviation_pct')} / 100)",
            cfg.for_ticket,
            "Placeringskostnad långt över budget (röd)", f"{n} över budgettakten",
            f"Placeringskostnaden hittills i månaden ligger {n} över budgettakten (röd: mer än "
            f"{limit('budget_deviation_pct')} % avvikelse).",
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
            f"Exportern publicerar färre än {n_kinds} gränsvärden för enheten, så larm om balanser för "
            "enheten kan utebli.",
            pipeline=True,
        ),
        # ---- pipeline health (no unit label)
        Alert(
            "CasewatchExporterDown", "page",
            f'up{{job="{cfg.exporter_job}"}} == 0\nor absent(up{{job="{cfg.exporter_job}"}})',
            cfg.exporter_down_for,
            "casewatch-exportern svarar inte", "",
            "Prometheus når inte exportern; larm om enheter kan inte skickas. Kontrollera nya "
            "orosanmälningar direkt i verksamhetssystemet.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchWorkerDown", "page",
            f"max({sel(cfg, 'casewatch_worker_heartbeat_age_seconds')}) > {cfg.worker_heartbeat_max_age_seconds}",
            cfg.worker_down_for,
            "casewatch bearbetar inga händelser", "",
            f"Bearbetningstjänstens senaste livstecken kom för {minutes} minuter sedan (gräns "
            f"{_dur_sv(cfg.worker_heartbeat_max_age_seconds, 'seconds')}); siffrorna blir inaktuella. "
            "Kontrollera nya orosanmälningar direkt i verksamhetssystemet.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchRedisDown", "page",
            f"min({sel(cfg, 'casewatch_redis_up')}) == 0",
            cfg.redis_down_for,
            "Exportern når inte Redis", "",
            "Exportern når inte Redis, där siffrorna lagras; inga siffror kan läsas. Kontrollera nya "
            "orosanmälningar direkt i verksamhetssystemet.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchFiguresStale", "page",
            f"max({sel(cfg, 'casewatch_projection_last_read_age_seconds')}) > {cfg.figures_stale_max_age_seconds}",
            "1m",
            "Siffrorna är inaktuella", "",
            f"Exportern visar siffror som lästes för {stale_minutes} minuter sedan (gräns "
            f"{_dur_sv(cfg.figures_stale_max_age_seconds, 'seconds')}) eftersom Redis inte svarar; larmen bygger "
            "på de senast lästa siffrorna. Kontrollera nya orosanmälningar direkt i verksamhetssystemet.",
            pipeline=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchConsumerLagGrowing", "ticket",
            f"max({sel(cfg, 'casewatch_consumer_lag_messages')}) > {cfg.consumer_lag_floor_messages}\n"
            f"and on ()\nmax(deriv({sel(cfg, 'casewatch_consumer_lag_messages')}[{cfg.consumer_lag_window}])) > 0",
            cfg.consumer_lag_for,
            "casewatch ligger efter", f"{n} obearbetade händelser",
            f"{n} händelser väntar på bearbetning och kön har vuxit {_last_sv(cfg.consumer_lag_window)} "
            f"(golv {cfg.consumer_lag_floor_messages}); siffrorna släpar efter.",
            value_format=WHOLE,
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchEventsRejected", "ticket",
            f"sum by (reason) (increase({sel(cfg, 'casewatch_events_rejected_total')}[{cfg.rejected_window}])) > 0",
            "0s",
            "Händelser avvisade till felkön", f"{n} med orsak {_reason_sv()}",
            f"{events} avvisades {_last_sv(cfg.rejected_window)} med orsak {_reason_sv()}; "
            "de räknas inte, så siffrorna kan vara fel.",
            value_format=WHOLE,
            pipeline=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchNoEventsDuringOfficeHours", "ticket",
            f"sum(increase({sel(cfg, 'casewatch_events_total')}[{cfg.no_events_window}])) == 0\n"
            f"and on ()\n{office_hours(cfg)}",
            cfg.no_events_for,
            "Inga händelser under kontorstid", "",
            f"Inga händelser har kommit in {_last_sv(cfg.no_events_window)} under kontorstid "
            f"(vardagar kl. {cfg.office_hours_start:02d}–{cfg.office_hours_end:02d}); kontrollera exporten "
            "från verksamhetssystemen.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
    ]
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise ValueError("duplicate alert names")
    return out


def alert_rule(a: Alert, cfg: MixinConfig) -> dict:
    headline = a.headline.replace("{{ $value }}", a.value_format)
    what = a.what.replace("{{ $value }}", a.value_format)
    has_unit = a.unit_scoped  # every unit alert carries municipality and unit (ThresholdMissing too)
    if has_unit:
        unit = alert_text.unit_name()
        since = alert_text.since(a.since, f'job="{cfg.exporter_job}"') if a.since else ""
        summary = f"{a.title}: {headline} i {unit}{since}" if headline else f"{a.title} för {unit}"
        description = (f"{what}\nEnhet {unit}, kommun {{{{ $labels.municipality }}}}."
                       f"\nInstrumentpanel: {cfg.dashboard_url()}")
    else:
        summary = f"{a.title}: {headline}" if headline else a.title
        description = what
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
