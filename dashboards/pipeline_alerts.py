"""The pipeline's own alerts: casewatch itself, not a unit (no unit label, ``pipeline="true"``).

The lag alerts read what the broker says (``casewatch_group_lag_messages``, exported from the
worker group's committed offsets by services/exporter/broker_lag.py), never the worker's own
``casewatch_consumer_lag_messages``: a stalled worker reports 0 lag with a fresh heartbeat.
"""
from __future__ import annotations

from streams.swedish import number
from streams.vocabulary import REJECT_REASONS_SV

from . import alert_text
from .alert_model import WHOLE, Alert, count_of, dur_sv, last_sv
from .config import MixinConfig
from .promql import office_hours, sel

GROUP_LAG = "casewatch_group_lag_messages"
GROUP_COMMITTED = "casewatch_group_committed_offset"
KAFKA_UP = "casewatch_kafka_up"


def _reason_sv() -> str:
    """The ``reason`` label's Swedish name (streams/vocabulary.py), generated as a lookup."""
    branches = "".join(f'{{{{ {"if" if i == 0 else "else if"} eq $labels.reason "{code}" }}}}{name[0].lower() + name[1:]}'
                       for i, (code, name) in enumerate(REJECT_REASONS_SV.items()))
    return branches + "{{ else }}{{ $labels.reason }}{{ end }}"


def _minutes_of(cfg: MixinConfig, seconds_metric: str) -> str:
    """Template text printing ``max(seconds_metric) / 60`` as whole minutes (a query at alert time)."""
    return (f'{{{{ with query `max({sel(cfg, seconds_metric)}) / 60` }}}}'
            f'{alert_text.count(". | first | value")}{{{{ end }}}}')


def pipeline_alerts(cfg: MixinConfig) -> list[Alert]:
    n = "{{ $value }}"
    events = count_of("händelse", "händelser")
    minutes = _minutes_of(cfg, "casewatch_worker_heartbeat_age_seconds")
    stale_minutes = _minutes_of(cfg, "casewatch_projection_last_read_age_seconds")
    lag = f"max by (topic) ({sel(cfg, GROUP_LAG)})"
    return [
        # ---- pipeline health (no unit label)
        Alert(
            "CasewatchExporterDown", "page",
            f'up{{job="{cfg.exporter_job}"}} == 0\nor absent(up{{job="{cfg.exporter_job}"}})',
            cfg.exporter_down_for,
            "Publiceringstjänsten svarar inte", "",
            "Larmsystemet når inte publiceringstjänsten, som lämnar siffrorna till larmen; larm om enheter "
            "kan inte skickas. Kontrollera nya "
            "orosanmälningar direkt i verksamhetssystemet.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchWorkerDown", "page",
            f"max({sel(cfg, 'casewatch_worker_heartbeat_age_seconds')}) > {cfg.worker_heartbeat_max_age_seconds}",
            cfg.worker_down_for,
            "casewatch bearbetar inga händelser", "",
            f"Bearbetningstjänstens senaste livstecken kom för {minutes} minuter sedan (gräns "
            f"{dur_sv(cfg.worker_heartbeat_max_age_seconds, 'seconds')}); siffrorna blir inaktuella. "
            "Kontrollera nya orosanmälningar direkt i verksamhetssystemet.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchRedisDown", "page",
            f"min({sel(cfg, 'casewatch_redis_up')}) == 0",
            cfg.redis_down_for,
            "Publiceringstjänsten når inte Redis", "",
            "Publiceringstjänsten når inte Redis, där siffrorna lagras; inga siffror kan läsas. Kontrollera nya "
            "orosanmälningar direkt i verksamhetssystemet.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchFiguresStale", "page",
            f"max({sel(cfg, 'casewatch_projection_last_read_age_seconds')}) > {cfg.figures_stale_max_age_seconds}",
            "1m",
            "Siffrorna är inaktuella", "",
            f"Publiceringstjänsten visar siffror som lästes för {stale_minutes} minuter sedan (gräns "
            f"{dur_sv(cfg.figures_stale_max_age_seconds, 'seconds')}) eftersom Redis inte svarar; larmen bygger "
            "på de senast lästa siffrorna. Kontrollera nya orosanmälningar direkt i verksamhetssystemet.",
            pipeline=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchConsumerLagGrowing", "ticket",
            f"{lag} > {cfg.consumer_lag_floor_messages}\n"
            f"and on (topic)\nmax by (topic) (deriv({sel(cfg, GROUP_LAG)}[{cfg.consumer_lag_window}])) > 0",
            cfg.consumer_lag_for,
            "casewatch ligger efter", f"{n} obearbetade händelser",
            f"{n} händelser väntar på bearbetning enligt Kafka och kön har vuxit {last_sv(cfg.consumer_lag_window)} "
            f"(golv {number(cfg.consumer_lag_floor_messages)}); siffrorna släpar efter.",
            value_format=WHOLE,
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchConsumerStalled", "page",
            # messages waited at the window's start and the committed offsets have not moved since
            f"{lag} > 0\n"
            f"and on (topic)\nmax by (topic) ({sel(cfg, GROUP_LAG)} offset {cfg.consumer_stalled_window}) > 0\n"
            f"and on (topic)\nmax by (topic) (changes({sel(cfg, GROUP_COMMITTED)}[{cfg.consumer_stalled_window}])) == 0\n"
            f"and on ()\nmax({sel(cfg, KAFKA_UP)}) > 0",
            cfg.consumer_stalled_for,
            "casewatch har stannat", f"{n} händelser väntar",
            f"{n} händelser väntar på bearbetning enligt Kafka men bearbetningen har inte gått framåt "
            f"{last_sv(cfg.consumer_stalled_window)}; siffrorna är inaktuella även om bearbetningstjänsten "
            "svarar. Kontrollera nya orosanmälningar direkt i verksamhetssystemet.",
            value_format=WHOLE,
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchKafkaUnreachable", "page",
            f"max({sel(cfg, KAFKA_UP)}) == 0",
            cfg.kafka_unreachable_for,
            "Publiceringstjänsten når inte Kafka", "",
            "Publiceringstjänsten når inte Kafka, där händelserna tas emot; nya händelser kan varken tas emot eller "
            "bearbetas och siffrorna blir inaktuella. Kontrollera nya orosanmälningar direkt i verksamhetssystemet.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
        Alert(
            "CasewatchEventsRejected", "ticket",
            f"sum by (reason) (increase({sel(cfg, 'casewatch_events_rejected_total')}[{cfg.rejected_window}])) > 0",
            "0s",
            "Händelser avvisade till felkön", f"{n} med orsak {_reason_sv()}",
            f"{events} avvisades {last_sv(cfg.rejected_window)} med orsak {_reason_sv()}; "
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
            f"Inga händelser har kommit in {last_sv(cfg.no_events_window)} under kontorstid "
            f"(vardagar kl. {cfg.office_hours_start:02d}–{cfg.office_hours_end:02d}); kontrollera exporten "
            "från verksamhetssystemen.",
            pipeline=True, stale_data=True, unit_scoped=False,
        ),
    ]
