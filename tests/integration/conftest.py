"""Fixtures for the integration tests: the real local stack (Kafka 4.x KRaft, Redis, and on
demand Prometheus/Alertmanager), started by ``services.stack`` or reused when already up.

A service that cannot be installed or started is a test FAILURE, never a skip.
Run ``casewatch stack up`` beforehand to keep the stack warm between runs; otherwise the
session starts what is missing and stops it again at the end (``CASEWATCH_STACK_KEEP=1``
leaves it running).
"""

from __future__ import annotations

import itertools
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.kafka_topics import ensure_topics
from services.stack import StackError, down_stack, up_stack
from tests.markers import items_under

HERE = Path(__file__).resolve().parent


# modules whose tests run casewatch (worker, exporter, ingest, snapshot) in subprocesses
SUBPROCESS_MODULES = {"test_worker.py", "test_exporter.py", "test_ingest.py", "test_snapshot_from_kafka.py",
                      "test_end_to_end.py"}


def pytest_collection_modifyitems(config, items):
    for item, path in items_under(items, HERE):
        item.add_marker(pytest.mark.integration)
        if path.name in SUBPROCESS_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def stack() -> dict:
    """The running stack as in stack.json: ``stack["kafka"]["bootstrap"]``, ``stack["redis"]["url"]``."""
    try:
        st = up_stack(with_monitoring=False)
    except StackError as exc:
        pytest.fail(f"local stack could not be started: {exc}", pytrace=False)
    started = [name for name, entry in st.items() if entry.get("started")]
    yield st
    if started and os.environ.get("CASEWATCH_STACK_KEEP") != "1":
        # stop only what this session started; keep Kafka data that predates it
        keep = [n for n in started if n == "kafka" and not st[n].get("formatted", True)]
        down_stack([n for n in started if n not in keep])
        if keep:
            down_stack(keep, keep_data=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(stack) -> str:
    return stack["kafka"]["bootstrap"]


_redis_dbs = itertools.cycle(range(1, 16))  # db 0 is left to whatever a developer runs
_redis_lock = threading.Lock()


@pytest.fixture
def redis_url(stack) -> str:
    """A Redis URL on its own DB number (1..15 in turn), flushed before the test."""
    import redis

    with _redis_lock:
        db = next(_redis_dbs)
    base = stack["redis"]["url"].rsplit("/", 1)[0]
    url = f"{base}/{db}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} unusable: {exc}", pytrace=False)
    finally:
        client.close()
    return url


@dataclass(frozen=True)
class TopicPair:
    case_topic: str
    dead_letter_topic: str
    partitions: int
    summary: dict


@pytest.fixture
def topic_factory(kafka_bootstrap):
    """``topic_factory(partitions=4, prefix="test") -> TopicPair`` with unique (uuid) names,
    created through ``ensure_topics``; deleted again after the test."""
    created: list[str] = []

    def make(partitions: int = 4, prefix: str = "test") -> TopicPair:
        tag = f"{prefix}.{uuid.uuid4().hex}"
        case_topic, dlq = f"{tag}.case-events", f"{tag}.dead-letter"
        summary = ensure_topics(kafka_bootstrap, case_topic=case_topic, dead_letter_topic=dlq, partitions=partitions)
        created.extend([case_topic, dlq])
        return TopicPair(case_topic, dlq, partitions, summary)

    yield make
    if created:
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="casewatch-tests-cleanup")
        try:
            admin.delete_topics(created, timeout_ms=10000, raise_errors=False)
        except Exception:  # noqa: BLE001 - cleanup is best effort
            pass
        finally:
            admin.close()


def _monitoring_installed() -> None:
    from services.stack.install import ensure_system_packages

    try:
        ensure_system_packages(with_monitoring=True, with_kafka_tools=False)
    except StackError as exc:
        pytest.fail(f"Prometheus/Alertmanager could not be installed: {exc}", pytrace=False)


def _factory(tmp_path_factory, start, name):
    _monitoring_installed()
    pids: list[int] = []

    def make(config, port: int | None = None) -> str:
        """Start with ``config`` (a path, or YAML text); returns the base URL."""
        state = tmp_path_factory.mktemp(name)
        if not isinstance(config, Path) and "\n" in str(config):
            path = state / f"{name}.yml"
            path.write_text(str(config))
            config = path
        try:
            url, pid = start(Path(config), state, port)
        except StackError as exc:
            pytest.fail(str(exc), pytrace=False)
        pids.append(pid)
        return url

    return make, pids


@pytest.fixture
def prometheus_factory(tmp_path_factory):
    """``prometheus_factory(config) -> url``: a private Prometheus, stopped after the test."""
    from services.stack.prometheus import start_prometheus
    from services.stack.state import stop_pid

    make, pids = _factory(tmp_path_factory, start_prometheus, "prometheus")
    yield make
    for pid in pids:
        stop_pid(pid, timeout=10, name="prometheus")


@pytest.fixture
def alertmanager_factory(tmp_path_factory):
    """``alertmanager_factory(config) -> url``: a private Alertmanager, stopped after the test."""
    from services.stack.prometheus import start_alertmanager
    from services.stack.state import stop_pid

    make, pids = _factory(tmp_path_factory, start_alertmanager, "alertmanager")
    yield make
    for pid in pids:
        stop_pid(pid, timeout=10, name="alertmanager")
