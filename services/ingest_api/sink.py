"""The EventSink the HTTP service and the CSV importer write to: accepted events to the case
topic keyed by ``case_id``, rejected ones to the dead-letter topic (redacted), both waited for.

The Kafka side is the ingest command's producer and dead-letter writer (``services.ingest``);
this module only batches for them and waits for the acknowledgements.
"""
from __future__ import annotations

import logging

from streams.dead_letter import dead_letter_record
from services.ingest.producer import DeliveryTracker, make_producer, probe

log = logging.getLogger("casewatch.ingest_api")

SEND_TIMEOUT_S = 30.0


class KafkaSink:
    """``submit`` sends a batch and returns when every message is acknowledged.

    Thread-safe: each call has its own :class:`~services.ingest.producer.DeliveryTracker` over
    the one shared idempotent producer.
    """

    def __init__(self, producer, case_topic: str, dead_letter_topic: str, *, owns_producer: bool = False) -> None:
        self.producer = producer
        self.case_topic = case_topic
        self.dead_letter_topic = dead_letter_topic
        self.owns_producer = owns_producer

    def submit(self, accepted: list[tuple[bytes, bytes]], rejected: list[tuple], source: str) -> None:
        """``accepted``: (key, value) pairs for the case topic. ``rejected``: (raw, rejection)
        or (raw, rejection, extra) where ``extra`` holds ``source_file``/``line_no`` for the
        dead-letter headers. Raises :class:`~services.ingest.producer.DeliveryError`."""
        tracker = DeliveryTracker(self.producer, timeout_s=SEND_TIMEOUT_S)
        case_topic, send = self.case_topic, tracker.send
        for key, value in accepted:
            send(case_topic, value, key)
        for entry in rejected:
            raw, rejection = entry[0], entry[1]
            extra = entry[2] if len(entry) > 2 else {}
            letter = dead_letter_record(raw, rejection, source=source, **extra)
            send(self.dead_letter_topic, letter.value, letter.key, letter.headers)
        tracker.finish()

    def ready(self, timeout_s: float = 2.0) -> bool:
        """Kafka answers: a TCP probe of the bootstrap servers, then the topics' metadata."""
        try:
            servers = self.producer.config["bootstrap_servers"]
            probe(servers if isinstance(servers, str) else ",".join(servers), timeout_s=timeout_s)
            return bool(self.producer.partitions_for(self.case_topic)) and \
                bool(self.producer.partitions_for(self.dead_letter_topic))
        except Exception:  # noqa: BLE001 - not reachable is the answer
            return False

    def close(self) -> None:
        if self.owns_producer:
            self.producer.close(timeout=10)


def open_sink(settings, client_id: str = "casewatch-ingest-api") -> KafkaSink:
    """A sink on the ingest command's idempotent producer for ``settings``' topics. Raises
    :class:`~services.ingest.producer.KafkaUnreachable` when no broker answers."""
    return KafkaSink(make_producer(settings, client_id=client_id), settings.case_topic, settings.dead_letter_topic,
                     owns_producer=True)


def as_sink(producer, settings):
    """``producer`` itself when it already is a sink, else a :class:`KafkaSink` around it."""
    if hasattr(producer, "submit") and hasattr(producer, "ready"):
        return producer
    return KafkaSink(producer, settings.case_topic, settings.dead_letter_topic)
