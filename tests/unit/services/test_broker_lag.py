"""The exporter's broker-read consumer lag (services/exporter/broker_lag.py) without a broker:
how offsets sum, what is served while the broker does not answer, and that it never floods the log."""
from __future__ import annotations

import logging

from services.exporter.broker_lag import BrokerLag, TopicOffsets, sum_offsets
from services.exporter.server import build_registry, make_app


def test_offsets_sum_over_partitions_with_the_log_start_where_nothing_is_committed():
    ends = {0: 100, 1: 50, 2: 7}
    committed = {0: 90, 1: None, 2: 9}  # 1: nothing committed yet; 2: past the end (topic recreated)
    starts = {0: 0, 1: 20, 2: 0}
    assert sum_offsets(ends, committed, starts) == TopicOffsets(log_end=157, committed=119, lag=40)


class FlakyReader:
    def __init__(self, answers):
        self.answers = list(answers)
        self.closed = 0

    def read(self):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        self.closed += 1


def samples(lag: BrokerLag) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in lag.collect() for s in family.samples}


def test_before_any_answer_only_kafka_up_0_is_served():
    lag = BrokerLag(FlakyReader([OSError("refused")]), clock=lambda: 1000.0)
    assert samples(lag) == {("casewatch_kafka_up", ()): 0.0}
    assert lag.refresh() is False
    assert samples(lag) == {("casewatch_kafka_up", ()): 0.0}


def test_the_last_answer_is_kept_with_its_age_while_the_broker_is_down():
    now = [1000.0]
    topic = (("topic", "casewatch.case-events"),)
    reader = FlakyReader([{"casewatch.case-events": TopicOffsets(500, 460, 40)}, TimeoutError("no answer")])
    lag = BrokerLag(reader, clock=lambda: now[0])
    assert lag.refresh() is True
    now[0] = 1004.0
    assert samples(lag) == {
        ("casewatch_kafka_up", ()): 1.0,
        ("casewatch_group_lag_messages", topic): 40.0,
        ("casewatch_group_committed_offset", topic): 460.0,
        ("casewatch_topic_log_end_offset", topic): 500.0,
        ("casewatch_group_lag_read_age_seconds", ()): 4.0,
    }
    assert lag.refresh() is False
    now[0] = 1030.0
    after = samples(lag)
    assert after[("casewatch_kafka_up", ())] == 0.0
    assert after[("casewatch_group_lag_messages", topic)] == 40.0
    assert after[("casewatch_group_lag_read_age_seconds", ())] == 30.0


def test_a_long_outage_logs_once_then_every_sixtieth_attempt(caplog):
    reader = FlakyReader([ConnectionError("down")] * 130 + [{}])
    lag = BrokerLag(reader)
    with caplog.at_level(logging.INFO, logger="casewatch.exporter.broker_lag"):
        for _ in range(131):
            lag.refresh()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3  # attempts 1, 60 and 120
    assert caplog.records[-1].getMessage() == "consumer-group offsets readable again"


def test_the_exporter_serves_the_broker_lag_beside_the_kpis():
    from services.exporter.collector import KpiCollector
    from streams.projection_memory import MemoryProjection

    lag = BrokerLag(FlakyReader([{"t": TopicOffsets(10, 4, 6)}]), clock=lambda: 0.0)
    lag.refresh()
    app = make_app(build_registry(KpiCollector(MemoryProjection()), process_metrics=False, others=[lag]))
    status = []
    body = b"".join(app({"PATH_INFO": "/metrics", "HTTP_ACCEPT": "text/plain"}, lambda s, h: status.append(s)))
    assert status == ["200 OK"]
    assert b'casewatch_group_lag_messages{topic="t"} 6.0' in body
    assert b"casewatch_kafka_up 1.0" in body
    assert b"casewatch_redis_up" in body
