"""The exporter reads the worker group's lag from the real broker: log end minus committed
offsets, also for a group that has committed nothing, and reports a broker it cannot reach."""
from __future__ import annotations

import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from services.exporter.broker_lag import BrokerLag, KafkaOffsetsReader, TopicOffsets


def _produce(bootstrap: str, topic: str, per_partition: dict[int, int]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for partition, count in per_partition.items():
        for i in range(count):
            producer.send(topic, value=b"%d" % i, partition=partition)
    producer.flush(30)
    producer.close(5)


def _commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    committer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    committer.assign(list(offsets))
    committer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
    committer.close(autocommit=False)


def test_lag_is_log_end_minus_the_groups_committed_offsets(kafka_bootstrap, topic_factory):
    topic = topic_factory(partitions=3, prefix="lag").case_topic
    group = f"lag-{uuid.uuid4().hex}"
    _produce(kafka_bootstrap, topic, {0: 10, 1: 4, 2: 0})
    reader = KafkaOffsetsReader(kafka_bootstrap, group, [topic, f"absent-{uuid.uuid4().hex}"])
    try:
        # nothing committed: everything waits (the worker starts at the log start)
        assert reader.read() == {topic: TopicOffsets(log_end=14, committed=0, lag=14)}

        _commit(kafka_bootstrap, group, {TopicPartition(topic, 0): 7})
        assert reader.read() == {topic: TopicOffsets(log_end=14, committed=7, lag=7)}

        # events arrive, the committed offsets stand still: the lag grows
        _produce(kafka_bootstrap, topic, {2: 5})
        assert reader.read() == {topic: TopicOffsets(log_end=19, committed=7, lag=12)}

        _commit(kafka_bootstrap, group, {TopicPartition(topic, p): end for p, end in ((0, 10), (1, 4), (2, 5))})
        assert reader.read() == {topic: TopicOffsets(log_end=19, committed=19, lag=0)}
    finally:
        reader.close()


def test_an_unreachable_broker_is_kafka_up_0_not_a_hang_or_a_crash():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lag = BrokerLag(KafkaOffsetsReader(f"127.0.0.1:{port}", "nobody", ["t"], timeout_s=2.0))
    assert lag.refresh() is False
    assert [(s.name, s.value) for f in lag.collect() for s in f.samples] == [("casewatch_kafka_up", 0.0)]
    lag.stop()
