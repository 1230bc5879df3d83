"""The local stack works end to end: Kafka 4.x with kafka-python and aiokafka (Faust's
client), topic creation and retention, Redis, Prometheus and Alertmanager."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid

import pytest
import redis
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import KafkaTimeoutError

from services.kafka_topics import ensure_topics
from services.stack import read_stack, up_stack
from services.stack.lifecycle import env_lines
from services.stack.prometheus import minimal_alertmanager_config, minimal_prometheus_config


def _event(case_id: str) -> bytes:
    return json.dumps(
        {
            "event_id": uuid.uuid4().hex,
            "type": "report.received",
            "occurred_at": "2026-03-02T09:15:00+01:00",
            "municipality": "0138",
            "unit": "bou-1",
            "case_id": case_id,
            "data": {"reporter": "skola"},
        }
    ).encode()


def test_stack_json_describes_running_stack(stack):
    recorded = read_stack()
    assert recorded["kafka"]["bootstrap"] == stack["kafka"]["bootstrap"]
    assert recorded["redis"]["url"] == stack["redis"]["url"]
    assert stack["kafka"]["bootstrap"].startswith("127.0.0.1:")
    assert stack["redis"]["url"].startswith("redis://127.0.0.1:")
    lines = env_lines(recorded)
    assert f"export CASEWATCH_KAFKA_BOOTSTRAP={stack['kafka']['bootstrap']}" in lines
    assert f"export CASEWATCH_REDIS_URL={stack['redis']['url']}" in lines


def test_up_reuses_a_healthy_stack(stack):
    again = up_stack(with_monitoring=False)
    for name in ("kafka", "redis"):
        assert again[name]["pid"] == stack[name]["pid"]
        assert again[name]["started"] is False


def test_kafka_python_keyed_round_trip(kafka_bootstrap, topic_factory):
    topics = topic_factory()
    payload = _event("case-42")
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True, linger_ms=0)
    try:
        meta = producer.send(topics.case_topic, key=b"case-42", value=payload).get(timeout=30)
        producer.flush()
    finally:
        producer.close()
    consumer = KafkaConsumer(
        topics.case_topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    got = []
    try:
        deadline = time.monotonic() + 60
        while not got and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                got.extend(records)
        consumer.commit()
    finally:
        consumer.close()
    assert len(got) == 1
    assert got[0].key == b"case-42"
    assert got[0].value == payload
    assert (got[0].partition, got[0].offset) == (meta.partition, meta.offset)


def test_same_key_same_partition(kafka_bootstrap, topic_factory):
    topics = topic_factory(partitions=4)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    try:
        parts = {producer.send(topics.case_topic, key=b"case-7", value=_event("case-7")).get(timeout=30).partition for _ in range(5)}
    finally:
        producer.close()
    assert len(parts) == 1


def test_aiokafka_keyed_round_trip(kafka_bootstrap, topic_factory):
    """Faust's client against the Kafka 4.x broker: idempotent produce, group consume, commit."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    topics = topic_factory()
    payload = _event("case-99")

    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            meta = await producer.send_and_wait(topics.case_topic, key=b"case-99", value=payload)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topics.case_topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=f"test-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            msg = await asyncio.wait_for(consumer.getone(), timeout=60)
            await consumer.commit()
            committed = await consumer.committed(TopicPartition(topics.case_topic, msg.partition))
        finally:
            await consumer.stop()
        return meta, msg, committed

    meta, msg, committed = asyncio.run(run())
    assert msg.key == b"case-99"
    assert msg.value == payload
    assert (msg.partition, msg.offset) == (meta.partition, meta.offset)
    assert committed == msg.offset + 1


def test_ensure_topics_is_idempotent(kafka_bootstrap):
    tag = f"test.{uuid.uuid4().hex}"
    case_topic, dlq = f"{tag}.case-events", f"{tag}.dead-letter"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        first = ensure_topics(kafka_bootstrap, case_topic=case_topic, dead_letter_topic=dlq, partitions=4)
        second = ensure_topics(kafka_bootstrap, case_topic=case_topic, dead_letter_topic=dlq, partitions=4)
        assert sorted(first["created"]) == sorted([case_topic, dlq]) and first["existing"] == []
        assert second["created"] == [] and sorted(second["existing"]) == sorted([case_topic, dlq])
        assert {n: t["partitions"] for n, t in second["topics"].items()} == {case_topic: 4, dlq: 4}
        assert case_topic in admin.list_topics()
    finally:
        admin.delete_topics([case_topic, dlq], raise_errors=False)
        admin.close()


def test_retention_is_forever_read_back_from_broker(kafka_bootstrap, topic_factory):
    topics = topic_factory()
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        for name in (topics.case_topic, topics.dead_letter_topic):
            res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)], config_filter="all")
            cfg = {k: v["value"] for k, v in res["topic"][name].items()}
            assert cfg["retention.ms"] == "-1", name
            assert cfg["retention.bytes"] == "-1", name
            assert cfg["cleanup.policy"] == "delete", name
    finally:
        admin.close()


def test_topics_are_not_auto_created(kafka_bootstrap):
    name = f"test.{uuid.uuid4().hex}.never-created"
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, max_block_ms=3000)
    try:
        with pytest.raises(KafkaTimeoutError):
            producer.send(name, key=b"k", value=b"v").get(timeout=10)
    finally:
        producer.close(timeout=5)
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert name not in admin.list_topics()
    finally:
        admin.close()


def test_redis_ping_set_get(redis_url):
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping() is True
        assert client.dbsize() == 0  # the fixture flushed this DB
        client.set("casewatch:test", "ok")
        assert client.get("casewatch:test") == b"ok"
        assert int(redis_url.rsplit("/", 1)[1]) in range(1, 16)
        assert client.config_get("save")["save"] == ""  # a projection: no snapshots
    finally:
        client.close()


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def test_prometheus_and_alertmanager_ready(prometheus_factory, alertmanager_factory):
    am_url = alertmanager_factory(minimal_alertmanager_config())
    prom_url = prometheus_factory(minimal_prometheus_config(alertmanager_url=am_url, scrape_interval="1s"))
    for url in (am_url, prom_url):
        assert url.startswith("http://127.0.0.1:")
        status, _ = _get(f"{url}/-/ready")
        assert status == 200
    status, body = _get(f"{prom_url}/api/v1/status/config")
    assert status == 200 and am_url.split("://")[1] in json.loads(body)["data"]["yaml"]
    # the Prometheus sees the Alertmanager it was configured with
    deadline = time.monotonic() + 30
    active = []
    while time.monotonic() < deadline and not active:
        active = json.loads(_get(f"{prom_url}/api/v1/alertmanagers")[1])["data"]["activeAlertmanagers"]
        time.sleep(0.5)
    assert any(am_url.split("://")[1] in a["url"] for a in active)
