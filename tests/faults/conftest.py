"""Fault injection against the real stack (``faults`` marker): every scenario ends with the
figures, every case in Redis and the changelog's last record per key identical to the replay of
the same events, with no operator action. The stack fixtures are the integration tests' own."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import kafka_bootstrap, redis_url, stack, topic_factory  # noqa: F401
from tests.markers import items_under

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item, _path in items_under(items, HERE):
        item.add_marker(pytest.mark.faults)
        item.add_marker(pytest.mark.integration)
        item.add_marker(pytest.mark.slow)
