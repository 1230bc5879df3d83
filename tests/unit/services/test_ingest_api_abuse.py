"""The ingest API against a source that tries to get past its limits (in process, no Kafka)."""
from __future__ import annotations

import orjson
from starlette.testclient import TestClient

from services.ingest_api.app import create_app
from services.ingest_api.auth import Sources, hash_token
from services.ingest_api.limits import RateLimiter
from streams.settings import load_settings
from tests.events import ev
from tests.unit.services.test_ingest_api_in_memory import FrozenClock, MemorySink

TOKEN = "test-token-metered-0123456789abcdef0123"
METERED = [{"name": "metered", "token_sha256": [hash_token(TOKEN)], "allowed_types": ["*"],
            "rate_per_second": 10_000, "events_per_second": 0.5, "event_burst": 20}]


def _events(n: int, start: int = 0) -> bytes:
    return orjson.dumps([ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola", event_id=f"e{i}",
                            case=f"c{i}") for i in range(start, start + n)])


def test_a_request_larger_than_the_sources_event_burst_cannot_buy_it_at_the_bursts_price():
    """0.5 events a second with a burst of 20 once let a request of 100 events through for 20
    tokens (the cost was capped at the burst): five times the configured rate, and 250 times it
    with the default cap of 5000 events per request."""
    sink, clock = MemorySink(), FrozenClock()
    app = create_app(load_settings(), Sources.from_dicts(METERED), sink, limiter=RateLimiter(clock), max_events=100)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    with TestClient(app) as http:
        accepted = 0
        for hour in range(3):
            r = http.post("/v1/events", content=_events(100, 100 * hour), headers=headers)
            assert r.status_code == 413 and r.json()["error"] == "too_many_events"
            assert r.json()["limit_events"] == 20 and "20" in r.json()["detail"]
            clock.now += 3600
        for i in range(10):  # batches within the burst, as fast as the bucket allows
            r = http.post("/v1/events", content=_events(20, 1000 + 20 * i), headers=headers)
            if r.status_code == 200:
                accepted += r.json()["accepted"]
            else:
                assert r.status_code == 429
            clock.now += 10
        # a full bucket of 20, then 0.5 events a second over 100 s: at most 70
        assert accepted <= 20 + 0.5 * 100
    assert len(sink.accepted) == accepted and sink.dead == []
