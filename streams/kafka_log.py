"""Reading topics back from Kafka: the case-event log (the system of record for reports and
replays), the dead-letter topic (`casewatch dlq`) and both for gallring, through one reader."""
from __future__ import annotations

import time
from typing import Iterator

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from streams.kafka_security import KafkaSecurity, client_options


class KafkaLogError(RuntimeError):
    pass


def read_records(bootstrap: str, topic: str, stall_s: float = 30.0, security: KafkaSecurity | None = None,
                 client_id: str = "casewatch-log-reader") -> Iterator:
    """Every record of ``topic`` (offset, key, value, headers, timestamp), from each partition's
    start up to the end offsets as they are when the read starts (later records wait for the next
    run). No consumer group, no commits, so it always ends and can be run again.
    :class:`KafkaLogError` when the topic is missing or the read makes no progress for ``stall_s``."""
    try:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                 auto_offset_reset="earliest", client_id=client_id,
                                 request_timeout_ms=max(int(stall_s * 1000), 5000), **client_options(security))
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
            batch = consumer.poll(timeout_ms=500, max_records=5000)
            if batch:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > stall_s:
                raise KafkaLogError(f"reading {topic!r} made no progress for {stall_s:.0f} s")
            for tp, records in batch.items():
                end = ends.get(tp, -1)
                for record in records:
                    if record.offset < end:
                        yield record
            for tp in list(ends):  # a partition may end on a transaction marker, never delivered
                if consumer.position(tp) >= ends[tp]:
                    del ends[tp]
    finally:
        consumer.close()


def read_case_log(bootstrap: str, topic: str, stall_s: float = 30.0,
                  security: KafkaSecurity | None = None) -> Iterator[bytes]:
    """Every message value on ``topic`` as :func:`read_records` reads them (tombstones skipped)."""
    for record in read_records(bootstrap, topic, stall_s, security, client_id="casewatch-case-log"):
        if record.value is not None:
            yield record.value


class GroupOffsets:
    """What the broker knows about the case topic's partitions, asked without joining the group.

    The worker uses it to start its offset ledger at the group's committed offsets and to tell a
    real hole in the log (records deleted, or transaction markers) from messages its consumer
    failed to deliver. Blocking (kafka-python); the worker calls it off its event loop.
    """

    def __init__(self, bootstrap: str, group_id: str, timeout_s: float = 10.0,
                 security: KafkaSecurity | None = None) -> None:
        self._timeout_ms = int(timeout_s * 1000)
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id,
                                       enable_auto_commit=False, auto_offset_reset="earliest",
                                       request_timeout_ms=max(self._timeout_ms, 5000),
                                       max_poll_records=1, **client_options(security))

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
