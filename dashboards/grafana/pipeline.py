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
from streams.vocabulary import EVENT_OUTCOMES_SV

from .vocabulary import swedish_codes

UID_SUFFIX = "pipeline"
TITLE = "Driftstatus"

EVENTS_PER_SECOND = units.OpsPerSecond
OUTCOME_NAMES = EVENT_OUTCOMES_SV


def flow_row() -> list:
    return [
        row("Händelseflöde"),
        timeseries_panel(
            "Behandlade händelser per sekund per utfall",
            "Händelser som bearbetningstjänsten behandlat per sekund: godkända, dubbletter (samma "
            "händelse igen) och avvisade (till felkön).",
            EVENTS_PER_SECOND,
            [Query(by("outcome", "sum", f"rate({plain('casewatch_events_total')}[$__rate_interval])"),
                   "{{outcome}}")],
            colors={"accepted": GREEN, "duplicate": "blue", "rejected": RED}, names=OUTCOME_NAMES,
            span=12, decimals=2,
        ),
        timeseries_panel(
            "Avvisade händelser per orsak",
            "Händelser som lagts i felkön per sekund, per orsak. Avvisade "
            "händelser kan spelas upp igen efter rättning.",
            EVENTS_PER_SECOND,
            [Query(swedish_codes(by("reason", "sum",
                                    f"rate({plain('casewatch_events_rejected_total')}[$__rate_interval])"), "reason"),
                   "{{reason}}")],
            span=12, decimals=2,
        ),
    ]


def health_row(config: MixinConfig) -> list:
    return [
        row("Hälsa just nu"),
        stat_panel(
            "Obearbetade händelser",
            "Antal händelser i kön som bearbetningstjänsten ännu inte bekräftat, enligt Kafka (gruppens bekräftade "
            f"offsets mot loggens slut). Gult från {config.consumer_lag_floor_messages} meddelanden (larmet kräver "
            "dessutom att fördröjningen växer).",
            COUNT, [Query(f"max({plain('casewatch_group_lag_messages')})", "Meddelanden")],
            steps=[(None, GREEN), (config.consumer_lag_floor_messages, YELLOW)], span=6, decimals=0,
        ),
        stat_panel(
            "Ålder på senaste händelse",
            "Tid sedan den senaste händelsen som bearbetningstjänsten sett inträffade i verksamhetssystemet. Växer den "
            "stadigt kommer inga nya händelser in.",
            SECONDS, [Query(f"max({plain('casewatch_newest_event_age_seconds')})", "Ålder")],
            span=6, decimals=0,
        ),
        stat_panel(
            "Tid sedan bearbetningstjänstens senaste livstecken",
            "Sekunder sedan bearbetningstjänsten senast gav livstecken i Redis. Rött från "
            f"{config.worker_heartbeat_max_age_seconds} s, då den räknas som nere.",
            SECONDS, [Query(f"max({plain('casewatch_worker_heartbeat_age_seconds')})", "Ålder")],
            steps=[(None, GREEN), (config.worker_heartbeat_max_age_seconds, RED)], span=6, decimals=0,
        ),
        stat_panel(
            "Redis nåbar",
            "1 när publiceringstjänsten nådde Redis vid senaste skrapningen, annars 0.",
            COUNT, [Query(f"min({plain('casewatch_redis_up')})", "Redis")],
            steps=[(None, RED), (1, GREEN)], span=6, decimals=0,
            mappings={"0": ("Nere", RED), "1": ("Uppe", GREEN)},
        ),
        stat_panel(
            "Kafka nåbar",
            "1 när Kafka svarade på publiceringstjänstens senaste fråga om gruppens offsets, annars 0.",
            COUNT, [Query(f"min({plain('casewatch_kafka_up')})", "Kafka")],
            steps=[(None, RED), (1, GREEN)], span=6, decimals=0,
            mappings={"0": ("Nere", RED), "1": ("Uppe", GREEN)},
        ),
    ]


def trend_row() -> list:
    return [
        row("Över tid"),
        timeseries_panel(
            "Obearbetade händelser över tid",
            "Händelser i kön som bearbetningstjänsten ännu inte bekräftat: enligt Kafka (det larmen bygger på) "
            "och enligt bearbetningstjänsten själv. Skiljer de sig åt har bearbetningstjänsten fastnat.",
            COUNT, [Query(f"max({plain('casewatch_group_lag_messages')})", "Enligt Kafka"),
                    Query(f"max({plain('casewatch_consumer_lag_messages')})", "Enligt bearbetningstjänsten")],
            colors={"Enligt Kafka": YELLOW}, span=12, decimals=0,
        ),
        timeseries_panel(
            "Ålder på senaste händelse och livstecken",
            "Tid sedan senaste händelsen inträffade och sedan bearbetningstjänstens senaste livstecken.",
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
        "Driftstatus för casewatch: händelseflöde, avvisade händelser, obearbetade händelser, "
        "aktualitet, bearbetningstjänstens livstecken och Redis.",
        unit_variables=False, time_from="now-6h")
    return assemble(builder, flow_row(), health_row(config), trend_row())
