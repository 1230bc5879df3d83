"""Kafka taken away while events flow (docs/OPERATIONS.md, "Kafka down"): the worker and the
ingest API recover by themselves when it is back on the same port, nothing acknowledged is lost,
and the figures, Redis and the changelog equal the replay."""
from __future__ import annotations

import threading
import time

import httpx
import orjson
from kafka import KafkaProducer

from streams.kafka_log import read_records
from tests.faults.outage import service_down
from tests.faults.support import assert_all_identical, stats
from tests.integration.ingest_support import auth, running_service
from tests.integration.test_worker import (  # noqa: F401 - fixtures
    _key, caught_up, lines_for, reference, wait_for, worker, worker_env)


def _produce_acknowledged(bootstrap: str, topic: str, lines: list[bytes], rate: float) -> list:
    """Send every line at ``rate``/s with retries long enough to outlast an outage; returns the
    failed deliveries (none expected: each is then acknowledged by the broker)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
                             delivery_timeout_ms=180_000, request_timeout_ms=10_000, max_block_ms=180_000,
                             reconnect_backoff_max_ms=1000)
    futures, started = [], time.monotonic()
    try:
        for n, line in enumerate(lines, 1):
            raw = line.rstrip(b"\n")
            futures.append(producer.send(topic, key=_key(raw), value=raw))
            ahead = n / rate - (time.monotonic() - started)
            if ahead > 0 and n % 50 == 0:
                time.sleep(ahead)
        producer.flush(180)
    finally:
        producer.close(10)
    failed = []
    for future in futures:
        try:
            future.get(timeout=0)
        except Exception as exc:  # noqa: BLE001 - any failure is a lost event for the test
            failed.append(exc)
    return failed


def test_kafka_killed_for_10s_while_events_flow(kafka_bootstrap, worker_env, worker):
    env, topics = worker_env
    lines = lines_for(municipalities=2, population=8_000, months=2, seed=31)
    replay, as_of, period = reference(lines)
    expected = replay.result(as_of, period)
    worker.start()
    wait_for(lambda: stats(env).heartbeat_ts is not None, 60, "the worker to start", worker)
    failed: list = []
    sender = threading.Thread(target=lambda: failed.extend(
        _produce_acknowledged(kafka_bootstrap, topics.case_topic, lines, rate=len(lines) / 40)))
    sender.start()
    try:
        wait_for(lambda: stats(env).events.get("accepted", 0) > 500, 60, "progress", worker, interval=0.1)
        with service_down("kafka", 10):
            pass
        sender.join(240)
        assert not sender.is_alive() and failed == []
        wait_for(caught_up(env, expected["units"], as_of, period), 240, "the projection after Kafka came back",
                 worker, target=env)
        assert_all_identical(replay, as_of, period, env, kafka_bootstrap)
        assert stats(env).events["accepted"] == expected["events"]["accepted"]
        assert worker.alive()
    finally:
        sender.join(240)


def test_the_ingest_api_rides_out_a_kafka_outage_over_30s(kafka_bootstrap, topic_factory):
    """POSTs answer 503 while Kafka is away and /readyz says 503; once Kafka is back both
    recover by themselves (no restart), and every event acknowledged with 200 is on the topic."""
    topics = topic_factory(partitions=4, prefix="outage")
    events = [orjson.loads(line) for line in lines_for(municipalities=1, population=3_000, months=1, seed=5)[:3000]]
    batches = [events[i:i + 20] for i in range(0, len(events), 20)]
    acknowledged: list[str] = []
    answers: list[tuple[float, int]] = []
    ready: list[tuple[float, int]] = []
    with running_service(kafka_bootstrap, topics) as (url, _app), httpx.Client(timeout=60) as http:
        def post(batch) -> int:
            r = http.post(f"{url}/v1/events", content=orjson.dumps(batch),
                          headers={**auth(), "Content-Type": "application/json"})
            answers.append((time.monotonic(), r.status_code))
            if r.status_code == 200:
                acknowledged.extend(e["event_id"] for e, res in zip(batch, r.json()["results"])
                                    if res["status"] == "accepted")
            return r.status_code

        def readyz() -> int:
            code = http.get(f"{url}/readyz").status_code
            ready.append((time.monotonic(), code))
            return code

        assert readyz() == 200 and post(batches[0]) == 200
        queue = iter(batches[1:])
        with service_down("kafka", 35):
            down_at = time.monotonic()
            for batch in queue:  # send throughout the outage; a 503 batch is given up (the client would retry)
                post(batch)
                readyz()
                if time.monotonic() - down_at > 30:
                    break
                time.sleep(0.5)
        back_at = time.monotonic()
        deadline = back_at + 120
        while readyz() != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        recovered = time.monotonic() - back_at
        for batch in queue:
            assert post(batch) == 200, "a POST after Kafka came back was not acknowledged"
    during = [code for t, code in answers if down_at + 2 < t < back_at]
    ready_during = [code for t, code in ready if down_at + 2 < t < back_at]
    assert during and set(during) == {503}, during
    assert ready_during and set(ready_during) == {503}, ready_during
    assert recovered < 120, f"/readyz still 503 {recovered:.0f} s after Kafka came back"
    stored = {orjson.loads(r.value)["event_id"] for r in read_records(kafka_bootstrap, topics.case_topic)}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged events are not on the topic"
    print(f"ingest API ready again {recovered:.1f} s after Kafka was back; {len(acknowledged)} events acknowledged")
