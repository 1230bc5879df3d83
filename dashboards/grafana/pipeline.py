"""Driftstatus: is the pipeline alive — throughput by outcome, rejections by reason, consumer
lag, age of the newest event, worker heartbeat age, Redis reachability. No unit labels here."""
from __future__ import annotations

from typing import Mapping

from grafana_foundation_sdk.builders import dashboard

from .common import (
    COUNT, GREEN, RED, SECONDS, YELLOW, Query, assemble, by, new_dashboard, plain, row, stat_panel,
    timeseries_panel,
)
from grafana_foundation_sdk.models import units

from dashboards.config import DEFAULT_CONFIG, MixinConfig

UID_SUFFIX = "pipeline"
TITLE = "Driftstatus"

EVENTS_PER_SECOND = units.OpsPerSecond
OUTCOME_NAMES = {"accepted": "Godkända", "duplicate": "Dubbletter", "rejected": "Avvisade"}


def flow_row() -> list:
    return [
        row("Händelseflöde"),
        timeseries_panel(
            "Behandlade händelser per sekund per utfall",
            "Händelser som arbetaren (worker) behandlat per sekund: godkända, dubbletter (samma "
            "event_id igen) och avvisade (till dead-letter-ämnet).",
            EVENTS_PER_SECOND,
            [Query(by("outcome", "sum", f"rate({plain('casewatch_events_total')}[$__rate_interval])"),
                   "{{outcome}}")],
            colors={"accepted": GREEN, "duplicate": "blue", "rejected": RED}, names=OUTCOME_NAMES,
            span=12, decimals=2,
        ),
        timeseries_panel(
            "Avvisade händelser per orsak",
            "Händelser som lagts på dead-letter-ämnet per sekund, per maskinläsbar orsak. Avvisade "
            "händelser kan spelas upp igen efter rättning.",
            EVENTS_PER_SECOND,
            [Query(by("reason", "sum", f"rate({plain('casewatch_events_rejected_total')}[$__rate_interval])"),
                   "{{reason}}")],
            span=12, decimals=2,
        ),
    ]


def health_row(config: MixinConfig) -> list:
    return [
        row("Hälsa just nu"),
        stat_panel(
            "Konsumentfördröjning",
            "Antal meddelanden på ämnet för ärendehändelser som arbetaren ännu inte läst. Gult från "
            f"{config.consumer_lag_floor_messages} meddelanden (larmet kräver dessutom att fördröjningen växer).",
            COUNT, [Query(f"max({plain('casewatch_consumer_lag_messages')})", "Meddelanden")],
            steps=[(None, GREEN), (config.consumer_lag_floor_messages, YELLOW)], span=6, decimals=0,
        ),
        stat_panel(
            "Ålder på senaste händelse",
            "Tid sedan den senaste händelsen som arbetaren sett inträffade (occurred_at). Växer den "
            "stadigt kommer inga nya händelser in.",
            SECONDS, [Query(f"max({plain('casewatch_newest_event_age_seconds')})", "Ålder")],
            span=6, decimals=0,
        ),
        stat_panel(
            "Tid sedan arbetarens senaste livstecken",
            "Sekunder sedan arbetaren senast skrev sitt livstecken (heartbeat) i Redis. Rött från "
            f"{config.worker_heartbeat_max_age_seconds} s, då arbetaren räknas som nere.",
            SECONDS, [Query(f"max({plain('casewatch_worker_heartbeat_age_seconds')})", "Ålder")],
            steps=[(None, GREEN), (config.worker_heartbeat_max_age_seconds, RED)], span=6, decimals=0,
        ),
        stat_panel(
            "Redis nåbar",
            "1 när exportören nådde Redis vid senaste skrapningen, annars 0.",
            COUNT, [Query(f"min({plain('casewatch_redis_up')})", "Redis")],
            steps=[(None, RED), (1, GREEN)], span=6, decimals=0,
            mappings={"0": ("Nere", RED), "1": ("Uppe", GREEN)},
        ),
    ]


def trend_row() -> list:
    return [
        row("Över tid"),
        timeseries_panel(
            "Konsumentfördröjning över tid",
            "Olästa meddelanden på ämnet för ärendehändelser.",
            COUNT, [Query(f"max({plain('casewatch_consumer_lag_messages')})", "Fördröjning")],
            colors={"Fördröjning": YELLOW}, span=12, decimals=0,
        ),
        timeseries_panel(
            "Ålder på senaste händelse och livstecken",
            "Tid sedan senaste händelsen inträffade och sedan arbetarens senaste livstecken.",
            SECONDS,
            [Query(f"max({plain('casewatch_newest_event_age_seconds')})", "Senaste händelse"),
             Query(f"max({plain('casewatch_worker_heartbeat_age_seconds')})", "Livstecken")],
            span=12, decimals=0,
        ),
    ]


def build(limits: Mapping[str, float], config: MixinConfig = DEFAULT_CONFIG) -> dashboard.Dashboard:
    del limits  # pipeline health has no unit thresholds; its global limits are in MixinConfig
    builder = new_dashboard(
        UID_SUFFIX, TITLE,
        "Driftstatus för casewatch: händelseflöde, avvisade händelser, konsumentfördröjning, "
        "aktualitet, arbetarens livstecken och Redis.",
        unit_variables=False, time_from="now-6h")
    return assemble(builder, flow_row(), health_row(config), trend_row())
