"""The mixin's alerting knobs (the ``config.libsonnet`` of the mixin).

:class:`MixinConfig` holds every selector, global pipeline limit, ``for`` duration, URL and
Alertmanager timing the generated rules and configs use. The per-unit thresholds are a runtime
concern and live in :mod:`streams.thresholds`.
"""
from __future__ import annotations

from dataclasses import dataclass


# ------------------------------------------------------------------ alerting knobs


@dataclass(frozen=True, slots=True)
class MixinConfig:
    """Every selector, global limit, URL and timing the generated rules and configs use."""

    exporter_job: str = "casewatch-exporter"
    worker_job: str = "casewatch-worker"
    # URLs put into annotations. {alert} is the alert name; {municipality}/{unit} become
    # Prometheus template references to the alert's labels.
    runbook_url_template: str = "https://git.example.invalid/casewatch/-/blob/main/dashboards/runbooks/{alert}.md"
    dashboard_url_template: str = (
        "http://127.0.0.1:3000/d/casewatch-unit-overview/enhetsoversikt?var-municipality={municipality}&var-unit={unit}"
    )
    # `for` per severity (legal-clock pages are part of the 60 s delivery budget, see DESIGN.md)
    for_page: str = "15s"
    for_ticket: str = "5m"
    for_info: str = "15m"
    # pipeline health (global, not per unit)
    exporter_down_for: str = "1m"
    worker_heartbeat_max_age_seconds: int = 120
    worker_down_for: str = "1m"
    redis_down_for: str = "1m"
    figures_stale_max_age_seconds: int = 300
    consumer_lag_floor_messages: int = 1000
    consumer_lag_window: str = "10m"
    consumer_lag_for: str = "10m"
    # committed offsets that do not move this long while messages wait: the worker has stalled
    consumer_stalled_window: str = "10m"
    consumer_stalled_for: str = "5m"
    kafka_unreachable_for: str = "2m"
    rejected_window: str = "15m"
    no_events_window: str = "2h"
    no_events_for: str = "15m"
    office_hours_start: int = 8  # local (Europe/Stockholm) hour, inclusive
    office_hours_end: int = 17  # local hour, exclusive
    threshold_missing_for: str = "15m"
    # Alertmanager
    webhook_url: str = "http://127.0.0.1:9099/alert"
    smtp_smarthost: str = "smtp.example.invalid:587"
    smtp_from: str = "casewatch@example.invalid"
    email_page_to: str = "socialjour@example.invalid"
    email_ticket_to: str = "ifo-enhetschefer@example.invalid"
    email_pipeline_to: str = "it-drift@example.invalid"
    timezone: str = "Europe/Stockholm"
    group_wait_page: str = "10s"
    group_wait: str = "30s"
    group_interval: str = "5m"
    group_interval_page: str = "1m"
    repeat_interval_page: str = "4h"
    repeat_interval: str = "24h"
    # Prometheus
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"
    scrape_timeout: str = "5s"
    # A scrape with more samples than this fails whole (the target shows up, `up` stays 1 but
    # `scrape_samples_post_metric_relabeling` stops): a faulty source inventing units cannot
    # flood Prometheus. The exporter: 50 KPI series per unit x 4,000 units; the worker: its own health.
    exporter_sample_limit: int = 200_000
    worker_sample_limit: int = 10_000
    label_value_length_limit: int = 200
    exporter_targets: tuple[str, ...] = ("127.0.0.1:9464",)
    alertmanager_targets: tuple[str, ...] = ("127.0.0.1:9093",)

    def runbook_url(self, alert: str) -> str:
        return self.runbook_url_template.format(alert=alert)

    def dashboard_url(self) -> str:
        return self.dashboard_url_template.format(
            municipality="{{ $labels.municipality }}", unit="{{ $labels.unit }}"
        )


DEFAULT_CONFIG = MixinConfig()
