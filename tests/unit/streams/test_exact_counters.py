"""casewatch_events_total is exact under redelivery, zombies and a wipe (in-memory projection;
the same scenario runs on Redis's Lua script in tests/integration/test_exact_counters.py)."""
from __future__ import annotations

from streams.projection_memory import MemoryProjection
from tests.exact_counters import run_scenario


def test_events_total_is_exact_in_memory():
    store = MemoryProjection()
    run_scenario(store, store.flush)
