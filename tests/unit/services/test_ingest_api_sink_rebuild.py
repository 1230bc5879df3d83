"""Issue 13: the ingest API's sink rebuilds its producer after a failed delivery, by itself."""
from __future__ import annotations

import pytest

from services.ingest.producer import DeliveryError
from services.ingest_api.sink import KafkaSink


class _Future:
    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def add_callback(self, fn, *a, **k):
        if not self.fail:
            fn(None, *a, **k)
        return self

    def add_errback(self, fn, *a, **k):
        if self.fail:
            fn(TimeoutError("no broker"), *a, **k)
        return self

    def get(self, timeout=None):
        if self.fail:
            raise TimeoutError("no broker")


class _Producer:
    def __init__(self, fail: bool) -> None:
        self.fail, self.closed, self.config = fail, False, {"bootstrap_servers": "127.0.0.1:1"}

    def send(self, topic, value=None, key=None, headers=None):
        if self.fail:
            raise TimeoutError("KafkaTimeoutError: ProducerId set to -1")
        return _Future(False)

    def flush(self, timeout=None):
        pass

    def close(self, timeout=None):
        self.closed = True


def test_a_failed_delivery_makes_the_next_call_use_a_new_producer():
    broken = _Producer(fail=True)
    built: list[_Producer] = []

    def rebuild() -> _Producer:
        built.append(_Producer(fail=False))
        return built[-1]

    sink = KafkaSink(broken, "cases", "dlq", owns_producer=True, rebuild=rebuild)
    with pytest.raises(Exception):
        sink.submit([(b"k", b"v")], [], "test")
    assert not built  # rebuilt lazily, on the next call
    sink.submit([(b"k", b"v")], [], "test")
    assert len(built) == 1 and sink.producer is built[0] and broken.closed
    assert sink.rebuilds == 1


def test_no_producer_can_be_built_is_a_delivery_error_and_tried_again():
    attempts = []

    def rebuild():
        attempts.append(1)
        raise ConnectionError("Kafka unreachable")

    sink = KafkaSink(_Producer(fail=True), "cases", "dlq", owns_producer=True, rebuild=rebuild)
    with pytest.raises(Exception):
        sink.submit([(b"k", b"v")], [], "test")
    for _ in range(2):
        with pytest.raises(DeliveryError):
            sink.submit([(b"k", b"v")], [], "test")
    assert len(attempts) == 2
    assert sink.ready(timeout_s=0.2) is False
