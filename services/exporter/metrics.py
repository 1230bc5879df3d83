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
from streams.contract.catalogue import EMPLOYMENTS, PLACEMENT_TYPES
from streams.contract.validate import REASONS

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


UnitSample = tuple[str, list[str], float]  # (family name, label values, value)

LABELS: Mapping[str, tuple[str, ...]] = {
    **{m.name: m.labels for m in KPI_METRICS},
    THRESHOLD: UNIT_LABELS + ("kind",),
    BUDGET: UNIT_LABELS + ("category",),
}
HELP: Mapping[str, str] = {
    **{m.name: m.help for m in KPI_METRICS},
    THRESHOLD: "The unit's effective threshold of this kind (dashboards/thresholds.yaml).",
    BUDGET: "Budget pace: the month's budget x elapsed days (today included) / days in the month, SEK.",
}
UNIT_FAMILIES: tuple[str, ...] = tuple(LABELS)  # in exposition order


def unit_samples(municipality: str, unit: str, figures: Mapping[str, object], thresholds: Mapping[str, float],
                 month_budget: Mapping[str, float], elapsed_fraction: float) -> Iterator[UnitSample]:
    """Every sample of one unit: its KPI figures (``streams.core.kpis.unit_kpis`` output), its
    thresholds and its budget pace."""
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
        extra = sorted(reason for reason in stats.rejected if reason not in REASONS)
        for reason in (*REASONS, *extra):
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

    def families(self) -> Iterator[Metric]:
        if self._up:
            yield from self.units.values()
        yield from self.pipeline_families()

    def pipeline_families(self) -> Iterator[Metric]:
        """The pipeline's health and Redis reachability: every family but the units'."""
        if self._up:
            yield from self._pipeline
        yield GaugeMetricFamily(REDIS_UP, "1 when the exporter reached Redis on this scrape.", value=self._up or 0.0)

