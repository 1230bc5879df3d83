"""A case of ~28,000 events against the real Kafka and Redis (issue 13 item 2): its changelog
record stays below the byte budget, the events past the budget are dead-lettered as
``case_too_large`` and counted as ``casewatch replay`` counts them, and the exporter's figures
and every case in Redis and the changelog equal the replay's."""
from __future__ import annotations

import random
import time

import orjson
from kafka import KafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry, generate_latest

from services.exporter import KpiCollector
from streams.case_state import CaseState, table_key
from streams.core.case_budget import CASE_TOO_LARGE, STATE_LIMIT
from streams.core.packed_replay import PackedReplay
from streams.core.timeutil import format_ts
from tests.faults.support import assert_all_identical, changelog_last
from tests.integration.test_worker import (  # noqa: F401 - fixtures
    _store, caught_up, lines_for, produce, reference, stats, wait_for, worker, worker_env)
from tests.prom_parse import figures_from_metrics, parse_metrics

PAYMENTS, REPORTS, RESENT = 21_000, 6_500, 500


def heavy_case(municipality: str, end: float) -> list[bytes]:
    """One case: monthly-payment-like events and reports interleaved (the reports are kept whole,
    so together they pass the budget near the end), then some payments sent again."""
    rnd = random.Random(13)
    start = end - 700 * 86400

    def line(event_id: str, type_: str, at: float, data: dict) -> bytes:
        return orjson.dumps({"event_id": event_id, "type": type_, "occurred_at": format_ts(at),
                             "municipality": municipality, "unit": "eb-heavy", "case_id": "heavy-1", "data": data})

    payments = [line(f"hp-{n:06d}", "payment.made", start + rnd.uniform(0, end - start),
                     {"amount_sek": rnd.randint(400, 1500) * 10}) for n in range(PAYMENTS)]
    reports = [line(f"hr-{n:06d}", "report.received", start + rnd.uniform(0, end - start), {"reporter": "skola"})
               for n in range(REPORTS)]
    lines = payments + reports
    rnd.shuffle(lines)
    return lines + rnd.sample(payments, RESENT)


def _dead_letter_reasons(bootstrap: str, topic: str, partitions: int, want: int, timeout_s: float = 60) -> list[str]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    reasons: list[str] = []
    deadline = time.monotonic() + timeout_s
    while len(reasons) < want and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            reasons.extend(dict(r.headers)["reason"].decode() for r in batch)
    consumer.close()
    return reasons


def test_a_case_of_28000_events_stays_below_the_record_limit_and_equals_the_replay(kafka_bootstrap, worker_env,
                                                                                    worker):
    env, topics = worker_env
    small = lines_for(municipalities=1, population=8_000, months=2, seed=5)
    municipality = orjson.loads(small[0])["municipality"]
    _replay, newest, _period = reference(small)
    heavy = heavy_case(municipality, newest)  # the heavy case's events all before the newest one
    lines = small + heavy
    replay, as_of, period = reference(lines)
    expected = replay.result(as_of, period)
    assert expected["events"]["rejected_by_reason"].get(CASE_TOO_LARGE, 0) > 0, "the case should pass the budget"
    packed = PackedReplay()
    packed.add_lines(lines)
    assert packed.result(as_of, period) == expected  # what `casewatch replay` prints

    produce(kafka_bootstrap, topics.case_topic, lines)
    worker.start()
    wait_for(caught_up(env, expected["units"], as_of, period), 540, "the projection", worker, target=env)
    # the heavy case's partition holds a changelog record of up to ~400 kB per batch: read longer
    assert_all_identical(replay, as_of, period, env, kafka_bootstrap, changelog_timeout_s=300)

    # the exporter's figures at the same instant, from the same Redis
    store = _store(env)
    try:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(KpiCollector(store, clock=lambda: as_of))
        samples = parse_metrics(generate_latest(registry))
        assert figures_from_metrics(samples) == expected["units"]
        too_large = registry.get_sample_value("casewatch_events_rejected_total", {"reason": CASE_TOO_LARGE})
    finally:
        store.client.close()
    want = expected["events"]["rejected_by_reason"][CASE_TOO_LARGE]
    assert too_large == want
    s = stats(env)
    assert s.rejected.get(CASE_TOO_LARGE) == want
    assert s.events["accepted"] == expected["events"]["accepted"]
    assert s.events["duplicate"] == expected["events"]["duplicates"]

    # the case's changelog record: below the budget, far below Faust's 1,000,000-byte producer limit
    changelog = changelog_last(kafka_bootstrap, f"{env['CASEWATCH_CONSUMER_GROUP']}-cases-changelog", 300)
    raw = changelog[table_key(municipality, "heavy-1")]
    assert len(raw) < STATE_LIMIT
    state = CaseState.from_bytes(municipality, "heavy-1", raw)
    assert state.spent <= STATE_LIMIT
    assert len(state) == len(replay.cases[municipality, "heavy-1"]) > 20_000
    print(f"heavy case: {len(state)} events kept, {want} refused, changelog record {len(raw)} bytes")

    reasons = _dead_letter_reasons(kafka_bootstrap, topics.dead_letter_topic, topics.partitions, want)
    assert reasons.count(CASE_TOO_LARGE) == want
    assert worker.alive()
