"""What the worker asks the broker when its offset ledger meets a hole, against the real Kafka."""
from __future__ import annotations

import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.structs import OffsetAndMetadata

from streams.kafka_log import GroupOffsets


def test_committed_offsets_and_where_the_next_record_is(kafka_bootstrap, topic_factory):
    topic = topic_factory(partitions=2, prefix="offsets").case_topic
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for i in range(10):
        producer.send(topic, value=b"%d" % i, partition=0)
    producer.flush(30)
    producer.close(5)
    group = f"offsets-{uuid.uuid4().hex}"
    tp0, tp1 = TopicPartition(topic, 0), TopicPartition(topic, 1)

    probe = GroupOffsets(kafka_bootstrap, group)
    try:
        # nothing committed: the worker starts where auto_offset_reset=earliest starts
        assert probe.committed([(topic, 0), (topic, 1)]) == {(topic, 0): 0, (topic, 1): 0}

        committer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
        committer.assign([tp0])
        committer.commit({tp0: OffsetAndMetadata(4, "", -1)})
        committer.close(autocommit=False)
        assert probe.committed([(topic, 0)]) == {(topic, 0): 4}

        assert probe.first_offset_from(topic, 0, 3) == 3
        assert probe.first_offset_from(topic, 0, 10) == 10  # the log end: nothing there yet
        assert probe.first_offset_from(topic, 1, 0) == 0   # an empty partition ends at 0

        # records deleted below offset 6: the next record from 2 is at 6, and a group that
        # never committed starts there
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        try:
            admin.delete_records({tp0: 6}, timeout_ms=10000)
        finally:
            admin.close()
        assert probe.first_offset_from(topic, 0, 2) == 6
        fresh = GroupOffsets(kafka_bootstrap, f"fresh-{uuid.uuid4().hex}")
        assert fresh.committed([(topic, 0)]) == {(topic, 0): 6}
        fresh.close()
    finally:
        probe.close()


def test_the_worker_commits_only_partitions_still_assigned(kafka_bootstrap, topic_factory):
    """A rebalance may take partitions away while a commit is on its way: those are left to
    their new owner instead of failing the commit (aiokafka refuses an empty one, which used
    to crash the worker through Faust's commit path)."""
    import asyncio

    from aiokafka import AIOKafkaConsumer
    from faust.types import TP

    from streams.offset_keeper import commit_assigned

    topic = topic_factory(partitions=2, prefix="commit").case_topic
    group = f"commit-{uuid.uuid4().hex}"

    async def run() -> tuple[dict, dict]:
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, 0)])
            some = await commit_assigned(consumer, {TP(topic, 0): 3, TP(topic, 1): 5})
            consumer.assign([])
            none = await commit_assigned(consumer, {TP(topic, 0): 4})
            return some, none
        finally:
            await consumer.stop()

    some, none = asyncio.run(run())
    assert some == {TP(topic, 0): 3}
    assert none == {}
    probe = GroupOffsets(kafka_bootstrap, group)
    try:
        assert probe.committed([(topic, 0), (topic, 1)]) == {(topic, 0): 3, (topic, 1): 0}
    finally:
        probe.close()
