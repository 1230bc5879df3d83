"""casewatch_events_total is exact under redelivery, zombies and a wipe: the fenced Lua write on
the real Redis (the same scenario as tests/unit/streams/test_exact_counters.py)."""
from __future__ import annotations

from streams.projection import RedisProjection
from tests.exact_counters import run_scenario


def test_events_total_is_exact_on_redis(redis_url):
    store = RedisProjection.from_url(redis_url, "cnt")
    try:
        run_scenario(store, store.client.flushdb)
    finally:
        store.close()
