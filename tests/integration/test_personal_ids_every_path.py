"""CONTRACT.md §1a on every path, over generated personal ids in every written form, inside
strings, keys and numbers, at every depth: replay, `casewatch ingest` to the real Kafka, the
ingest API. None reaches the case topic, a dead letter (readable), a log line or an answer, and
each event is rejected `personal_id_in_payload`."""
from __future__ import annotations

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest import DeliveryTracker, ingest_lines, make_producer
from streams.settings import load_settings
from streams.contract.personal_id import contains_personal_id
from streams.contract.validate import parse_instant
from streams.core.replay import Replay
from tests.integration.ingest_support import TOKEN_ALL, auth, captured_logs, record_has_personal_id, records, \
    running_service
from tests.personal_ids import events_with_personal_ids

BATCHES = settings(max_examples=6, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
batch = st.lists(events_with_personal_ids(), min_size=25, max_size=25)


def _readable_anywhere(text: str) -> bool:
    return contains_personal_id(text)


@BATCHES
@given(lines=batch)
def test_replay_rejects_every_form(lines):
    replay = Replay()
    replay.add_lines(lines)
    result = replay.result(parse_instant("2024-12-31T00:00:00+01:00"), None)
    assert result["events"]["rejected_by_reason"] == {"personal_id_in_payload": len(lines)}
    assert not _readable_anywhere(orjson.dumps(result).decode())


@BATCHES
@given(lines=batch)
def test_ingest_to_kafka_passes_on_none(kafka_bootstrap, topic_factory, lines):
    topics = topic_factory(partitions=1, prefix="pidingest")
    cfg = load_settings(kafka_bootstrap=kafka_bootstrap, case_topic=topics.case_topic,
                        dead_letter_topic=topics.dead_letter_topic)
    producer = make_producer(cfg, client_id="pid-test")
    try:
        with captured_logs() as logs:
            summary = ingest_lines(lines, DeliveryTracker(producer), topics.case_topic, topics.dead_letter_topic,
                                   "pid.jsonl")
    finally:
        producer.close()
    assert summary.rejected_by_reason == {"personal_id_in_payload": len(lines)}
    assert records(kafka_bootstrap, topics.case_topic) == []
    letters = records(kafka_bootstrap, topics.dead_letter_topic)
    assert len(letters) == len(lines)
    assert not any(record_has_personal_id(r) for r in letters)
    assert not any(_readable_anywhere(line) for line in logs.lines)
    assert not _readable_anywhere(orjson.dumps(summary.as_json()).decode())


@BATCHES
@given(lines=batch, as_array=st.booleans())
def test_the_api_passes_on_none_and_echoes_none(kafka_bootstrap, topic_factory, lines, as_array):
    topics = topic_factory(partitions=1, prefix="pidapi")
    with running_service(kafka_bootstrap, topics) as (url, _app), captured_logs() as logs:
        if as_array:
            body, kind = b"[" + b",".join(lines) + b"]", "application/json"
        else:
            body, kind = b"\n".join(lines), "application/x-ndjson"
        r = httpx.post(f"{url}/v1/events", content=body, headers={**auth(TOKEN_ALL), "Content-Type": kind}, timeout=60)
    assert r.status_code == 200
    answer = r.json()
    assert answer["rejected_by_reason"] == {"personal_id_in_payload": len(lines)}
    assert all(x["reason"] == "personal_id_in_payload" for x in answer["results"])
    assert not _readable_anywhere(r.text)
    assert records(kafka_bootstrap, topics.case_topic) == []
    letters = records(kafka_bootstrap, topics.dead_letter_topic)
    assert len(letters) == len(lines) and not any(record_has_personal_id(x) for x in letters)
    assert not any(_readable_anywhere(line) for line in logs.lines)


# --- the worker reading the case topic directly ------------------------------------------------

from tests.integration.test_worker import produce, stats, wait_for, worker, worker_env  # noqa: E402,F401


@settings(max_examples=1, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(events_with_personal_ids(), min_size=80, max_size=80))
def test_the_worker_keeps_none_and_dead_letters_them_masked(kafka_bootstrap, worker_env, worker, lines):
    import redis

    env, topics = worker_env
    valid = [orjson.dumps({"event_id": f"ok-{i}", "type": "report.received", "occurred_at": "2024-05-01T10:00:00+02:00",
                           "municipality": "0138", "unit": "bou-1", "case_id": f"c-{i}", "data": {"reporter": "skola"}})
             for i in range(5)]
    produce(kafka_bootstrap, topics.case_topic, lines + valid)
    worker.start()
    wait_for(lambda: stats(env).events.get("rejected") == len(lines) and stats(env).events.get("accepted") == 5,
             180, "the worker to see every message", worker, target=env)
    assert dict(stats(env).rejected) == {"personal_id_in_payload": len(lines)}
    client = redis.Redis.from_url(env["CASEWATCH_REDIS_URL"])
    try:
        for key in client.scan_iter(env["CASEWATCH_REDIS_PREFIX"] + ":*"):
            kind = client.type(key)
            values = client.hgetall(key) if kind == b"hash" else {}
            text = b" ".join([key, *values.keys(), *values.values()]).decode("utf-8", "replace")
            assert not _readable_anywhere(text), key
    finally:
        client.close()
    letters = records(kafka_bootstrap, topics.dead_letter_topic)
    assert len(letters) == len(lines) and not any(record_has_personal_id(x) for x in letters)
    assert not _readable_anywhere(worker.log.read_text(encoding="utf-8", errors="replace"))
