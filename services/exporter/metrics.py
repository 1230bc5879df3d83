"""Every metric of docs/METRICS.md, defined in one place.

The tables below are the catalogue: metric name, contract key (CONTRACT.md §4), help text and,
for the objects keyed by type, the category label and its known values. :class:`Scrape` builds
one fresh set of metric families per scrape from them (the custom-collector shape of
prometheus-client); :mod:`tests.prom_parse` reads them back with the same tables, so a
name can change in exactly one place.

Labels are bounded: ``municipality``, ``unit`` and one category label. Never a case, person or
staff id.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from streams.projection import OUTCOMES, PipelineStats
from streams.contract.catalogue import EMPLOYMENTS, PLACEMENT_LEGAL_BASES, PLACEMENT_TYPES
from streams.contract.validate import REASONS
from streams.dead_letter import WORKER_REASONS

UNIT_LABELS = ("municipality", "unit")


@dataclass(frozen=True, slots=True)
class KpiMetric:
    name: str
    key: str  # the contract's KPI key
    help: str
    category: str | None = None  # label of an object keyed by type
    values: tuple[str, ...] = ()  # its known values: pre-created at 0
    nullable: bool = False  # the series is absent while the KPI is null

    @property
    def labels(self) -> tuple[str, ...]:
        return UNIT_LABELS + ((self.category,) if self.category else ())


# Point-in-time KPIs at scrape time.
POINT_IN_TIME: tuple[KpiMetric, ...] = (
    KpiMetric("casewatch_reports_awaiting_screening", "reports_awaiting_screening",
              "Reports received, not yet screened (orosanmälningar utan förhandsbedömning)."),
    KpiMetric("casewatch_reports_screening_overdue", "reports_screening_overdue",
              "Reports awaiting screening past the 14-day deadline."),
    KpiMetric("casewatch_reports_screening_due_soon", "reports_screening_due_soon",
              "Reports awaiting screening, not overdue, past the warning point (day 10 of 14)."),
    KpiMetric("casewatch_protection_assessments_overdue", "protection_assessments_overdue",
              "Reports neither protection-assessed nor screened, past the 24-hour deadline."),
    KpiMetric("casewatch_investigations_open", "investigations_open", "Investigations opened, not closed."),
    KpiMetric("casewatch_investigations_overdue", "investigations_overdue",
              "Open investigations past their (possibly extended) deadline."),
    KpiMetric("casewatch_investigations_due_soon", "investigations_due_soon",
              "Open investigations, not overdue, past the warning point (3 months of 4)."),
    KpiMetric("casewatch_decisions_not_enforced", "decisions_not_enforced",
              "Decisions made, neither enforced nor ended."),
    KpiMetric("casewatch_decisions_reportable", "decisions_reportable",
              "Decisions not enforced within 3 months: reportable to IVO."),
    KpiMetric("casewatch_decisions_due_soon", "decisions_due_soon",
              "Decisions not enforced, not yet reportable, past the warning point (2 months of 3)."),
    KpiMetric("casewatch_placements_active", "placements_active", "Placements started and not ended.",
              "placement_type", PLACEMENT_TYPES),
    KpiMetric("casewatch_staff_active_fte", "staff_active", "FTE of active staff by employment.",
              "employment", EMPLOYMENTS),
    KpiMetric("casewatch_consultant_share_ratio", "consultant_share", "Consultant FTE / all FTE (0 without staff)."),
    KpiMetric("casewatch_caseload_per_social_worker", "caseload_per_social_worker",
              "Open investigations per social worker FTE (absent while no social worker is active).",
              nullable=True),
    KpiMetric("casewatch_reports_received_last_7d", "reports_received_last_7d",
              "Reports with occurred_at in the 7 days up to scrape time."),
    KpiMetric("casewatch_reports_received_weekly_mean_12w", "reports_received_weekly_mean_12w",
              "Weekly mean of reports in the 12 weeks before those 7 days."),
    # contract v2
    KpiMetric("casewatch_investigations_linked_open", "investigations_linked_open",
              "Open child investigations continuing an earlier episode's clock (linked)."),
    KpiMetric("casewatch_enforcements_interrupted", "enforcements_interrupted",
              "Enforced decisions whose enforcement is interrupted now."),
    KpiMetric("casewatch_interruptions_reportable", "interruptions_reportable",
              "Interrupted SoL enforcements, interrupted for more than 3 months: reportable to IVO."),
    KpiMetric("casewatch_placements_active_by_legal_basis", "placements_active_by_legal_basis",
              "Placements started and not ended, by legal basis.", "legal_basis", PLACEMENT_LEGAL_BASES),
)

# The contract's default period at scrape time: the month so far.
MONTH_TO_DATE: tuple[KpiMetric, ...] = (
    KpiMetric("casewatch_month_reports_received", "reports_received", "Reports received this month so far."),
    KpiMetric("casewatch_month_investigations_closed", "investigations_closed",
              "Investigations closed this month so far."),
    KpiMetric("casewatch_month_investigation_days_mean", "investigation_days_mean",
              "Mean days from opening to closing of investigations closed this month (absent while none).",
              nullable=True),
    KpiMetric("casewatch_month_application_wait_days_mean", "application_wait_days_mean",
              "Mean days from application to decision, decisions this month (absent while none).",
              nullable=True),
    KpiMetric("casewatch_month_placement_days", "placement_days", "Placement days this month so far.",
              "placement_type", PLACEMENT_TYPES),
    KpiMetric("casewatch_month_placement_cost_sek", "placement_cost_sek", "Placement cost this month so far, SEK.",
              "placement_type", PLACEMENT_TYPES),
    KpiMetric("casewatch_month_placements_mean", "placements_mean",
              "Average number placed this month so far (placement days / days).",
              "placement_type", PLACEMENT_TYPES),
    KpiMetric("casewatch_month_consultant_cost_sek", "consultant_cost_sek", "Consultant cost this month so far, SEK."),
    KpiMetric("casewatch_month_payments_sek", "payments_sek", "Economic assistance paid this month so far, SEK."),
    # contract v2
    KpiMetric("casewatch_month_households_paid", "households_paid",
              "Cases (households) with a payment this month so far."),
    KpiMetric("casewatch_month_new_applicant_wait_days_mean", "new_applicant_wait_days_mean",
              "Mean days from application to decision for new applicants, decisions this month (absent while none).",
              nullable=True),
    KpiMetric("casewatch_month_protection_assessments_done", "protection_assessments_done",
              "Reports whose protection clock was resolved this month so far."),
    KpiMetric("casewatch_month_protection_assessments_done_within_limit", "protection_assessments_done_within_limit",
              "Of those, resolved within 24 hours."),
    KpiMetric("casewatch_month_screenings_done", "screenings_done", "Reports screened this month so far."),
    KpiMetric("casewatch_month_screenings_done_within_limit", "screenings_done_within_limit",
              "Of those, screened within 14 days."),
    KpiMetric("casewatch_month_child_investigations_closed", "child_investigations_closed",
              "Child investigations closed this month so far."),
    KpiMetric("casewatch_month_child_investigations_closed_within_limit", "child_investigations_closed_within_limit",
              "Of those, closed at or before their deadline."),
    KpiMetric("casewatch_month_child_investigation_days_mean", "child_investigation_days_mean",
              "Mean days from opening to closing of child investigations closed this month (absent while none).",
              nullable=True),
    KpiMetric("casewatch_month_decisions_enforced", "decisions_enforced", "Decisions enforced this month so far."),
    KpiMetric("casewatch_month_decisions_enforced_within_limit", "decisions_enforced_within_limit",
              "Of those, enforced within 3 months of the decision."),
    KpiMetric("casewatch_month_transfers_in", "transfers_in", "Cases transferred into the unit this month so far."),
    KpiMetric("casewatch_month_transfers_out", "transfers_out", "Cases transferred out of the unit this month so far."),
    KpiMetric("casewatch_month_permanent_staff_left", "permanent_staff_left",
              "Permanent staff whose employment ended this month so far."),
    KpiMetric("casewatch_month_permanent_staff_mean", "permanent_staff_mean",
              "Mean number of permanent staff (heads) active per day of the month so far."),
)

KPI_METRICS: tuple[KpiMetric, ...] = POINT_IN_TIME + MONTH_TO_DATE
KPI_BY_NAME: Mapping[str, KpiMetric] = {m.name: m for m in KPI_METRICS}

THRESHOLD = "casewatch_threshold"
BUDGET = "casewatch_budget_month_to_date_sek"
EVENTS = "casewatch_events"  # counter: exposed as casewatch_events_total
REJECTED = "casewatch_events_rejected"  # counter: casewatch_events_rejected_total
CONSUMER_LAG = "casewatch_consumer_lag_messages"
NEWEST_EVENT_AGE = "casewatch_newest_event_age_seconds"
HEARTBEAT_AGE = "casewatch_worker_heartbeat_age_seconds"
REDIS_UP = "casewatch_redis_up"
STALE = "casewatch_projection_stale"
LAST_READ_AGE = "casewatch_projection_last_read_age_seconds"
# Since when a unit is late on a legal clock (streams.core.overdue): an instant, never a case.
OLDEST_OVERDUE = "casewatch_oldest_overdue_timestamp_seconds"
# The unit registry's display name (CONTRACT.md §7), for alert texts and legends; one series a unit.
UNIT_INFO = "casewatch_unit_info"
IVO_DUE = "casewatch_ivo_due_this_quarter"  # kind: decision | interruption (streams/core/ivo.py)


UnitSample = tuple[str, list[str], float]  # (family name, label values, value)

# Staff turnover over the last 365 days (local days through as_of's date), as the annual reports
# give it: left / mean permanent staff. The contract keys over that period, not the month to date.
STAFF_LEFT_12M = "casewatch_staff_permanent_left_12m"
STAFF_MEAN_12M = "casewatch_staff_permanent_mean_12m"
ROLLING_12M = ((STAFF_LEFT_12M, "permanent_staff_left"), (STAFF_MEAN_12M, "permanent_staff_mean"))
LABELS: Mapping[str, tuple[str, ...]] = {
    **{m.name: m.labels for m in KPI_METRICS},
    THRESHOLD: UNIT_LABELS + ("kind",),
    BUDGET: UNIT_LABELS + ("category",),
    OLDEST_OVERDUE: UNIT_LABELS + ("clock",),
    UNIT_INFO: UNIT_LABELS + ("name",),
    STAFF_LEFT_12M: UNIT_LABELS,
    STAFF_MEAN_12M: UNIT_LABELS,
    IVO_DUE: UNIT_LABELS + ("kind",),
}
HELP: Mapping[str, str] = {
    **{m.name: m.help for m in KPI_METRICS},
    THRESHOLD: "The unit's effective threshold of this kind (dashboards/thresholds.yaml).",
    BUDGET: "Budget pace: the month's budget x elapsed days (today included) / days in the month, SEK.",
    OLDEST_OVERDUE: "The deadline the unit's oldest overdue item passed, by legal clock, Unix seconds "
                    "(absent while none is overdue).",
    UNIT_INFO: "1 for each unit the unit registry names; the label name is its display name.",
    STAFF_LEFT_12M: "Permanent staff who left in the last 365 days (through today).",
    STAFF_MEAN_12M: "Mean permanent staff (FTE-weighted as permanent_staff_mean) over the last 365 days.",
    IVO_DUE: "Open SoL decisions (interruptions) not yet reportable to IVO that will be by the quarter's end.",
}
UNIT_FAMILIES: tuple[str, ...] = tuple(LABELS)  # in exposition order


def unit_samples(municipality: str, unit: str, figures: Mapping[str, object], thresholds: Mapping[str, float],
                 month_budget: Mapping[str, float], elapsed_fraction: float,
                 oldest_overdue: Mapping[str, float | None] | None = None,
                 display_name: str | None = None,
                 rolling_12m: Mapping[str, object] | None = None,
                 ivo_due: Mapping[str, int] | None = None) -> Iterator[UnitSample]:
    """Every sample of one unit: its KPI figures (``streams.core.kpis.unit_kpis`` output), its
    thresholds, its budget pace, since when each legal clock is late
    (``streams.core.overdue.oldest_overdue``), its display name when the registry has one, and
    (when given) the staff figures over the last 365 days."""
    place = [municipality, unit]
    for metric in KPI_METRICS:
        value = figures[metric.key]
        if metric.category:
            by_type = value  # a missing key means 0; known values are always present
            for category in metric.values:
                yield metric.name, place + [category], by_type.get(category, 0)
            for category in sorted(set(by_type) - set(metric.values)):
                yield metric.name, place + [category], by_type[category]
        elif value is not None:  # null: the series is absent
            yield metric.name, place, value
    for kind in sorted(thresholds):
        yield THRESHOLD, place + [kind], thresholds[kind]
    for category in sorted(month_budget):
        yield BUDGET, place + [category], month_budget[category] * elapsed_fraction
    for clock, instant in sorted((oldest_overdue or {}).items()):
        if instant is not None:
            yield OLDEST_OVERDUE, place + [clock], instant
    if display_name is not None:
        yield UNIT_INFO, place + [display_name], 1.0
    if rolling_12m is not None:
        for name, key in ROLLING_12M:
            yield name, place, rolling_12m[key]
    for kind in sorted(ivo_due or {}):
        yield IVO_DUE, place + [kind], ivo_due[kind]


# --- the text exposition format, for the unit families (what generate_latest writes) -------------

def _escape_label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r'\"')


def family_header(name: str) -> str:
    help_text = HELP[name].replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {name} {help_text}\n# TYPE {name} gauge\n"


def render_samples(samples: Iterable[UnitSample]) -> dict[str, str]:
    """Family name -> the unit's exposition lines of that family."""
    lines: dict[str, list[str]] = {}
    for name, labels, value in samples:
        pairs = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sorted(zip(LABELS[name], labels)))
        lines.setdefault(name, []).append(f"{name}{{{pairs}}} {floatToGoString(value)}\n")
    return {name: "".join(text) for name, text in lines.items()}


class Scrape:
    """The metric families of one scrape, filled by the collector and then yielded."""

    def __init__(self) -> None:
        self.units = {name: GaugeMetricFamily(name, HELP[name], labels=LABELS[name]) for name in UNIT_FAMILIES}
        self._pipeline: list[Metric] = []
        self._up: float | None = None
        self._stale_age: float | None = None  # seconds since the last good read, when serving it

    # --- per unit ------------------------------------------------------------------------------

    def add_samples(self, samples: Iterable[UnitSample]) -> None:
        """One unit's samples (:func:`unit_samples`)."""
        for name, labels, value in samples:
            self.units[name].add_metric(labels, value)

    # --- pipeline --------------------------------------------------------------------------------

    def add_pipeline(self, stats: PipelineStats, now: float, wall_now: float) -> None:
        """The workers' pipeline health (``Projection.pipeline_stats``) as health metrics."""
        events = CounterMetricFamily(EVENTS, "Events processed by the worker, by outcome.", labels=["outcome"])
        for outcome in OUTCOMES:
            events.add_metric([outcome], float(stats.events.get(outcome, 0)))
        rejected = CounterMetricFamily(REJECTED, "Dead-lettered events by machine-readable reason.", labels=["reason"])
        known = (*REASONS, *WORKER_REASONS)
        extra = sorted(reason for reason in stats.rejected if reason not in known)
        for reason in (*known, *extra):
            rejected.add_metric([reason], float(stats.rejected.get(reason, 0)))
        self._pipeline += [events, rejected]
        lag = stats.consumer_lag
        if lag is not None:
            self._pipeline.append(GaugeMetricFamily(
                CONSUMER_LAG, "Consumer lag on the case-event topic, summed over the workers alive, messages.", value=lag))
        newest = stats.newest_event_ts
        if newest is not None:
            self._pipeline.append(GaugeMetricFamily(
                NEWEST_EVENT_AGE, "Scrape time - occurred_at of the newest event seen, seconds.", value=now - newest))
        heartbeat = stats.heartbeat_ts
        if heartbeat is not None:
            self._pipeline.append(GaugeMetricFamily(
                HEARTBEAT_AGE, "Seconds since the latest heartbeat of any worker.", value=max(0.0, wall_now - heartbeat)))

    def set_up(self, up: bool) -> None:
        self._up = 1.0 if up else 0.0

    def set_stale(self, age: float) -> None:
        """Redis is unreachable and the figures served are those of the last good read, ``age``
        seconds ago: firing alerts keep firing instead of resolving for want of data."""
        self._stale_age = max(0.0, age)

    @property
    def _serving(self) -> bool:
        return bool(self._up) or self._stale_age is not None

    def families(self) -> Iterator[Metric]:
        if self._serving:
            yield from self.units.values()
        yield from self.pipeline_families()

    def pipeline_families(self) -> Iterator[Metric]:
        """The pipeline's health and Redis reachability: every family but the units'."""
        if self._serving:
            yield from self._pipeline
            yield GaugeMetricFamily(STALE, "1 when Redis is unreachable and the figures are those of the last "
                                           "good read.", value=0.0 if self._up else 1.0)
            yield GaugeMetricFamily(LAST_READ_AGE, "Seconds since the exporter last read the projection.",
                                    value=0.0 if self._up else self._stale_age)
        yield GaugeMetricFamily(REDIS_UP, "1 when the exporter reached Redis on this scrape.", value=self._up or 0.0)

