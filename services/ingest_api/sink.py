"""The EventSink the HTTP service and the CSV importer write to: accepted events to the case
topic keyed by ``case_id``, rejected ones to the dead-letter topic (redacted), both waited for.

The Kafka side is the ingest command's producer and dead-letter writer (``services.ingest``);
this module only batches for them and waits for the acknowledgements.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from streams.dead_letter import dead_letter_record
from services.ingest.producer import DeliveryError, DeliveryTracker, make_producer, probe

log = logging.getLogger("casewatch.ingest_api")

SEND_TIMEOUT_S = 30.0


class KafkaSink:
    """``submit`` sends a batch and returns when every message is acknowledged.

    Thread-safe: each call has its own :class:`~services.ingest.producer.DeliveryTracker` over
    the one shared idempotent producer. With a ``rebuild`` factory, a failed delivery (a broker
    outage: the idempotent producer may have lost its producer id for good) makes the next
    call build a new producer, so the service recovers by itself when Kafka is back.
    """

    def __init__(self, producer, case_topic: str, dead_letter_topic: str, *, owns_producer: bool = False,
                 rebuild: Optional[Callable[[], object]] = None) -> None:
        self.producer = producer
        self.case_topic = case_topic
        self.dead_letter_topic = dead_letter_topic
        self.owns_producer = owns_producer
        self._rebuild = rebuild
        self._broken = False
        self._lock = threading.Lock()
        self.rebuilds = 0

    def _healthy_producer(self):
        """The producer, rebuilt first when a delivery failed since it was built."""
        if not self._broken or self._rebuild is None:
            return self.producer
        with self._lock:
            if self._broken:
                old = self.producer
                self.producer = self._rebuild()  # raises while Kafka is unreachable: still broken
                self._broken = False
                self.rebuilds += 1
                log.info("Kafka producer rebuilt after a failed delivery")
                try:
                    old.close(timeout=0)
                except Exception:  # noqa: BLE001 - the old one is gone either way
                    pass
        return self.producer

    def submit(self, accepted: list[tuple[bytes, bytes]], rejected: list[tuple], source: str) -> None:
        """``accepted``: (key, value) pairs for the case topic. ``rejected``: (raw, rejection)
        or (raw, rejection, extra) where ``extra`` holds ``source_file``/``line_no`` for the
        dead-letter headers. Raises :class:`~services.ingest.producer.DeliveryError`."""
        try:
            tracker = DeliveryTracker(self._healthy_producer(), timeout_s=SEND_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - no producer can be built: Kafka is away
            raise DeliveryError(f"Kafka unreachable ({type(exc).__name__})") from None
        case_topic, send = self.case_topic, tracker.send
        try:
            for key, value in accepted:
                send(case_topic, value, key)
            for entry in rejected:
                raw, rejection = entry[0], entry[1]
                extra = entry[2] if len(entry) > 2 else {}
                letter = dead_letter_record(raw, rejection, source=source, **extra)
                send(self.dead_letter_topic, letter.value, letter.key, letter.headers)
            tracker.finish()
        except Exception:
            self._broken = True  # a timeout, a fatal producer error: the next call rebuilds
            raise

    def ready(self, timeout_s: float = 2.0) -> bool:
        """Kafka answers: a TCP probe of the bootstrap servers, then the topics' metadata."""
        try:
            producer = self._healthy_producer()
            servers = producer.config["bootstrap_servers"]
            probe(servers if isinstance(servers, str) else ",".join(servers), timeout_s=timeout_s)
            return bool(producer.partitions_for(self.case_topic)) and \
                bool(producer.partitions_for(self.dead_letter_topic))
        except Exception:  # noqa: BLE001 - not reachable is the answer
            return False

    def close(self) -> None:
        if self.owns_producer:
            self.producer.close(timeout=10)


def open_sink(settings, client_id: str = "casewatch-ingest-api") -> KafkaSink:
    """A sink on the ingest command's idempotent producer for ``settings``' topics. Raises
    :class:`~services.ingest.producer.KafkaUnreachable` when no broker answers."""
    def build():
        return make_producer(settings, client_id=client_id)

    return KafkaSink(build(), settings.case_topic, settings.dead_letter_topic, owns_producer=True, rebuild=build)


def as_sink(producer, settings):
    """``producer`` itself when it already is a sink, else a :class:`KafkaSink` around it."""
    if hasattr(producer, "submit") and hasattr(producer, "ready"):
        return producer
    return KafkaSink(producer, settings.case_topic, settings.dead_letter_topic)
