"""The idempotent Kafka producer and a delivery tracker that never waits per message.

``send`` returns at once; the tracker keeps the futures and, once a window of them is
outstanding, waits for the oldest half (by then the sender thread has long acknowledged most of
them, so the wait is short and newer batches keep filling meanwhile). ``finish`` flushes and
checks the rest. The first failed delivery raises :class:`DeliveryError`.
"""
from __future__ import annotations

import socket
from collections import deque
from typing import Iterable

from kafka import KafkaProducer
from kafka.errors import KafkaError

BOOTSTRAP_TIMEOUT_S = 8.0
DELIVERY_TIMEOUT_S = 30.0


class KafkaUnreachable(RuntimeError):
    """No broker answered within the bootstrap timeout."""


class DeliveryError(RuntimeError):
    """A message was not acknowledged by Kafka."""


def _servers(bootstrap: str) -> list[tuple[str, int]]:
    out = []
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        out.append((host.strip("[]"), int(port)))
    return out


def probe(bootstrap: str, timeout_s: float = 3.0) -> None:
    """Fail fast when no bootstrap server accepts a TCP connection (a refused port answers in
    microseconds, whereas the Kafka client would retry for its whole bootstrap timeout)."""
    errors = []
    for host, port in _servers(bootstrap):
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return
        except OSError as exc:
            errors.append(f"{host}:{port}: {exc.strerror or exc}")
    raise KafkaUnreachable(f"Kafka at {bootstrap} is unreachable ({'; '.join(errors)})")


def make_producer(settings_or_bootstrap, *, client_id: str = "casewatch-ingest", linger_ms: int = 5,
                  bootstrap_timeout_s: float = BOOTSTRAP_TIMEOUT_S) -> KafkaProducer:
    """An idempotent, acks=all producer for a :class:`~streams.settings.Settings` or a bootstrap
    string. Raises :class:`KafkaUnreachable` when no broker answers in ``bootstrap_timeout_s``."""
    bootstrap = getattr(settings_or_bootstrap, "kafka_bootstrap", settings_or_bootstrap)
    probe(bootstrap, timeout_s=min(3.0, bootstrap_timeout_s))
    try:
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=linger_ms,
            batch_size=256 * 1024,
            max_in_flight_requests_per_connection=5,  # the most idempotence keeps in order
            bootstrap_timeout_ms=int(bootstrap_timeout_s * 1000),
            max_block_ms=int(DELIVERY_TIMEOUT_S * 1000),
            request_timeout_ms=15_000,
            delivery_timeout_ms=int(DELIVERY_TIMEOUT_S * 1000),
        )
    except KafkaError as exc:
        raise KafkaUnreachable(f"Kafka at {bootstrap} did not answer within {bootstrap_timeout_s:g} s ({exc})") \
            from None


class DeliveryTracker:
    """Sends without waiting; checks acknowledgements in batches of the oldest futures."""

    def __init__(self, producer: KafkaProducer, window: int = 20_000,
                 timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
        self.producer = producer
        self.window = window
        self.timeout_s = timeout_s
        self._pending: deque = deque()
        self.acknowledged: dict[str, int] = {}

    def send(self, topic: str, value: bytes, key: bytes | None = None,
             headers: Iterable[tuple[str, bytes]] | None = None) -> None:
        try:
            future = self.producer.send(topic, value=value, key=key, headers=list(headers) if headers else None)
        except KafkaError as exc:
            raise DeliveryError(f"could not queue a message for {topic}: {exc}") from None
        self._pending.append((topic, future))
        if len(self._pending) >= self.window:
            self._settle(len(self._pending) // 2)

    def _settle(self, n: int) -> None:
        pending, acknowledged = self._pending, self.acknowledged
        for _ in range(n):
            topic, future = pending.popleft()
            try:
                future.get(timeout=self.timeout_s)
            except Exception as exc:  # noqa: BLE001 - whatever the cause, the message is not delivered
                raise DeliveryError(f"Kafka did not acknowledge a message to {topic}: {exc}") from None
            acknowledged[topic] = acknowledged.get(topic, 0) + 1

    def finish(self) -> None:
        """Flush and check every outstanding delivery."""
        try:
            self.producer.flush(timeout=self.timeout_s)
        except KafkaError as exc:
            raise DeliveryError(f"flushing to Kafka failed: {exc}") from None
        self._settle(len(self._pending))

    @property
    def outstanding(self) -> int:
        return len(self._pending)
