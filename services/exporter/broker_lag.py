"""Consumer lag as the broker sees it: the group's committed offsets against the log end.

The worker's own ``casewatch_consumer_lag_messages`` is what its consumer believes; a worker that
has stalled (an agent crashed on a record it could neither process nor dead-letter, a zombie,
a lost offset ledger) keeps reporting 0 with a fresh heartbeat while the group's committed
offsets stand still. Only the broker knows the truth, so the exporter asks it, without joining
the group: per topic, the sum over partitions of the log end offset, of the group's committed
offset (where nothing is committed: the log start, where the worker begins) and of the lag.
Alerts read these (``CasewatchConsumerLagGrowing``, ``CasewatchConsumerStalled``,
``CasewatchKafkaUnreachable``), never the worker's own gauge.

A daemon thread asks every ``interval_s``; a scrape only reads the last answer, so a broker that
does not answer never slows a scrape. While the broker cannot be read the last answer is served
with ``casewatch_kafka_up 0`` and its age, as the KPI figures are while Redis is down.
Labels: ``topic`` only (a handful of series).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Protocol

from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger("casewatch.exporter.broker_lag")

GROUP_LAG = "casewatch_group_lag_messages"
GROUP_COMMITTED = "casewatch_group_committed_offset"
LOG_END = "casewatch_topic_log_end_offset"
KAFKA_UP = "casewatch_kafka_up"
LAG_READ_AGE = "casewatch_group_lag_read_age_seconds"
FAMILY_NAMES = (GROUP_LAG, GROUP_COMMITTED, LOG_END, KAFKA_UP, LAG_READ_AGE)


@dataclass(frozen=True, slots=True)
class TopicOffsets:
    """One topic's offsets summed over its partitions."""

    log_end: int
    committed: int
    lag: int


class OffsetsReader(Protocol):
    def read(self) -> Mapping[str, TopicOffsets]: ...

    def close(self) -> None: ...


def sum_offsets(ends: Mapping[int, int], committed: Mapping[int, int | None],
                starts: Mapping[int, int]) -> TopicOffsets:
    """Per-partition offsets summed. A partition with no committed offset counts from its log
    start (the worker reads from the earliest offset); a committed offset past the log end (a
    topic recreated under the group) counts as no lag rather than a negative one."""
    total_end = total_committed = total_lag = 0
    for partition, end in ends.items():
        done = committed.get(partition)
        if done is None or done < 0:
            done = starts.get(partition, 0)
        total_end += end
        total_committed += done
        total_lag += max(0, end - done)
    return TopicOffsets(total_end, total_committed, total_lag)


class KafkaOffsetsReader:
    """Reads log end offsets and the group's committed offsets with kafka-python, outside the
    group (an admin request for the committed offsets, a group-less consumer for the ends).
    The clients are built on first use and rebuilt after a failure (a broker that was down)."""

    def __init__(self, bootstrap: str, group_id: str, topics: list[str], timeout_s: float = 5.0,
                 security=None) -> None:
        self.bootstrap, self.group_id, self.topics = bootstrap, group_id, list(topics)
        self.timeout_ms = int(timeout_s * 1000)
        self.security = security
        self._admin = self._consumer = None

    def _clients(self):
        if self._consumer is None:
            from kafka import KafkaAdminClient, KafkaConsumer

            from streams.kafka_security import client_options

            options = dict(bootstrap_servers=self.bootstrap, request_timeout_ms=self.timeout_ms,
                           bootstrap_timeout_ms=self.timeout_ms,
                           **client_options(self.security))
            self._consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, **options)
            self._admin = KafkaAdminClient(**options)
        return self._admin, self._consumer

    def read(self) -> dict[str, TopicOffsets]:
        from kafka import TopicPartition

        try:
            admin, consumer = self._clients()
            out = {}
            for topic in self.topics:
                partitions = consumer.partitions_for_topic(topic)
                if not partitions:
                    continue  # no such topic (yet): nothing to lag behind
                tps = [TopicPartition(topic, p) for p in sorted(partitions)]
                ends = consumer.end_offsets(tps)
                starts = consumer.beginning_offsets(tps)
                committed = self._committed(admin, tps)
                out[topic] = sum_offsets(
                    {tp.partition: end for tp, end in ends.items()},
                    {tp.partition: (meta.offset if meta is not None else None) for tp, meta in committed.items()},
                    {tp.partition: start for tp, start in starts.items()})
            return out
        except Exception:
            self.close()  # rebuilt on the next read
            raise

    def _committed(self, admin, tps) -> dict:
        """The group's committed offsets; a coordinator still loading (a fresh broker, a group
        that moved) is asked again for up to a request timeout before it counts as a failure."""
        from kafka.errors import KafkaError

        deadline = time.monotonic() + self.timeout_ms / 1000
        while True:
            try:
                return admin.list_group_offsets({self.group_id: tps}).get(self.group_id, {})
            except KafkaError as exc:
                if not getattr(exc, "retriable", False) or time.monotonic() > deadline:
                    raise
                time.sleep(0.25)

    def close(self) -> None:
        for client in (self._consumer, self._admin):
            if client is not None:
                try:
                    client.close()
                except Exception:  # noqa: BLE001 - a broken client may fail to close; it is dropped anyway
                    pass
        self._admin = self._consumer = None


class BrokerLag:
    """The last broker answer, refreshed by :meth:`start`'s thread (or :meth:`refresh`), served
    as metric families by :meth:`collect` (a prometheus-client collector)."""

    def __init__(self, reader: OffsetsReader, interval_s: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.reader = reader
        self.interval_s = interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._offsets: Mapping[str, TopicOffsets] | None = None
        self._read_at: float | None = None
        self._up = False
        self._failures = 0
        self._stop = threading.Event()

    def refresh(self) -> bool:
        """Ask the broker once; True when it answered."""
        try:
            offsets = self.reader.read()
        except Exception as exc:  # noqa: BLE001 - any client error means "cannot read now"
            with self._lock:
                self._up = False
                self._failures += 1
                failures = self._failures
            if failures == 1 or failures % 60 == 0:  # once, then every ~10 minutes: no log flood
                log.warning("cannot read consumer-group offsets from Kafka (%d attempts so far): %s",
                            failures, type(exc).__name__)
            return False
        with self._lock:
            if self._failures:
                log.info("consumer-group offsets readable again")
            self._offsets, self._read_at, self._up, self._failures = offsets, self.clock(), True, 0
        return True

    def start(self) -> threading.Thread:
        def run() -> None:
            while not self._stop.is_set():
                self.refresh()
                self._stop.wait(self.interval_s)

        thread = threading.Thread(target=run, name="casewatch-exporter-broker-lag", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
        self.reader.close()

    def describe(self):
        return []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            offsets, read_at, up = self._offsets, self._read_at, self._up
        yield GaugeMetricFamily(KAFKA_UP, "1 when the exporter's last request for the consumer group's offsets "
                                          "was answered by Kafka.", value=1.0 if up else 0.0)
        if offsets is None or read_at is None:
            return
        lag = GaugeMetricFamily(GROUP_LAG, "Messages on the topic not yet committed by the worker group: log end "
                                           "minus committed offset, summed over partitions, as the broker says.",
                                labels=["topic"])
        committed = GaugeMetricFamily(GROUP_COMMITTED, "The worker group's committed offsets on the topic, summed "
                                                       "over partitions (the log start where none is committed).",
                                      labels=["topic"])
        end = GaugeMetricFamily(LOG_END, "Log end offsets of the topic, summed over partitions.", labels=["topic"])
        for topic in sorted(offsets):
            figures = offsets[topic]
            lag.add_metric([topic], float(figures.lag))
            committed.add_metric([topic], float(figures.committed))
            end.add_metric([topic], float(figures.log_end))
        yield from (lag, committed, end)
        yield GaugeMetricFamily(LAG_READ_AGE, "Seconds since Kafka last answered the exporter's request for the "
                                              "consumer group's offsets.", value=max(0.0, self.clock() - read_at))
