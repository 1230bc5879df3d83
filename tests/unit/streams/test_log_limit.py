"""The worker's log stays readable through an outage (streams/log_limit.py)."""
from __future__ import annotations

import logging

from streams.log_limit import RepeatLimit


def _record(msg: str, level: int = logging.ERROR, name: str = "aiokafka") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, ("127.0.0.1:9092",), None)


def test_a_repeated_error_passes_a_few_times_a_window_and_the_rest_is_counted():
    now = [0.0]
    limit = RepeatLimit(burst=5, window_s=60, clock=lambda: now[0])
    passed = 0
    for i in range(6000):  # 100 a second for a minute
        now[0] = i / 100
        passed += limit.filter(_record("Unable connect to node with id %s"))
    assert passed == 5
    now[0] = 61.0
    first = _record("Unable connect to node with id %s")
    assert limit.filter(first)
    assert first.getMessage().endswith("[5995 more like this in the last 60 s left out]")
    # another message, and anything below WARNING, is not held back by it
    assert limit.filter(_record("Heartbeat failed"))
    assert all(limit.filter(_record("Unable connect to node with id %s", logging.INFO)) for _ in range(50))
