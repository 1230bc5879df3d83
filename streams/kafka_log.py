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


class GroupOffsets:
    """What the broker knows about the case topic's partitions, asked without joining the group.

    The worker uses it to start its offset ledger at the group's committed offsets and to tell a
    real hole in the log (records deleted, or transaction markers) from messages its consumer
    failed to deliver. Blocking (kafka-python); the worker calls it off its event loop.
    """

    def __init__(self, bootstrap: str, group_id: str, timeout_s: float = 10.0) -> None:
        self._timeout_ms = int(timeout_s * 1000)
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id,
                                       enable_auto_commit=False, auto_offset_reset="earliest",
                                       request_timeout_ms=max(self._timeout_ms, 5000),
                                       max_poll_records=1)

    def committed(self, tps: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The group's committed offset per partition; the log start where nothing is committed
        (the worker reads from the earliest offset then)."""
        parts = [TopicPartition(topic, partition) for topic, partition in tps]
        found = {tp: self._consumer.committed(tp) for tp in parts}
        missing = [tp for tp, offset in found.items() if offset is None]
        if missing:
            found.update(self._consumer.beginning_offsets(missing))
        return {(tp.topic, tp.partition): offset for tp, offset in found.items()}

    def first_offset_from(self, topic: str, partition: int, offset: int) -> int:
        """The offset of the first record at or after ``offset``; the log end offset if none."""
        tp = TopicPartition(topic, partition)
        consumer = self._consumer
        consumer.assign([tp])
        try:
            end = consumer.end_offsets([tp])[tp]
            start = max(offset, consumer.beginning_offsets([tp])[tp])
            if start >= end:
                return end
            consumer.seek(tp, start)
            deadline = time.monotonic() + self._timeout_ms / 1000
            while time.monotonic() < deadline:
                for record in consumer.poll(timeout_ms=500, max_records=1).get(tp, []):
                    return record.offset
                if consumer.position(tp) >= end:
                    return end
            raise KafkaLogError(f"no answer reading {topic}[{partition}] from offset {offset}")
        finally:
            consumer.unsubscribe()

    def close(self) -> None:
        self._consumer.close(autocommit=False)
