"""Reading the case-event log back from Kafka: the system of record for reports and replays."""
from __future__ import annotations

import time
from typing import Iterator

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError


class KafkaLogError(RuntimeError):
    pass


def read_case_log(bootstrap: str, topic: str, stall_s: float = 30.0) -> Iterator[bytes]:
    """Every message value on ``topic`` from the beginning up to the end offsets as they are when
    the read starts (later messages wait for the next run). No consumer group, no commits."""
    try:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                 request_timeout_ms=int(stall_s * 1000))
    except KafkaError as exc:
        raise KafkaLogError(f"Kafka at {bootstrap} is unreachable ({type(exc).__name__})") from None
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise KafkaLogError(f"no topic {topic!r} at {bootstrap}")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = {tp: end for tp, end in consumer.end_offsets(tps).items() if end > consumer.position(tp)}
        last_progress = time.monotonic()
        while ends:
            batch = consumer.poll(timeout_ms=1000, max_records=5000)
            if batch:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > stall_s:
                raise KafkaLogError(f"reading {topic!r} made no progress for {stall_s:.0f} s")
            for tp, records in batch.items():
                end = ends.get(tp, -1)
                for record in records:
                    if record.offset < end and record.value is not None:
                        yield record.value
                if tp in ends and consumer.position(tp) >= end:
                    del ends[tp]
    finally:
        consumer.close()
