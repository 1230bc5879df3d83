"""The ingest API's auth and limits in process, against an in-memory sink (no Kafka).

The same checks run against the real Kafka in tests/integration/test_ingest_api.py; here they
are fast and show exactly what reaches the sink (and what does not).
"""
from __future__ import annotations

import orjson
from starlette.testclient import TestClient

from services.ingest_api.app import create_app
from services.ingest_api.auth import Sources, hash_token
from services.ingest_api.limits import RateLimiter
from streams.dead_letter import dead_letter_record
from streams.settings import load_settings
from tests.events import ev

TOKEN_ALL = "test-token-all-types-0123456789abcdef"
TOKEN_REPORTS = "test-token-reports-only-0123456789abcd"
TOKEN_SLOW = "test-token-slow-source-0123456789abcdef"
SOURCES = [
    {"name": "all-types", "token_sha256": [hash_token(TOKEN_ALL)], "allowed_types": ["*"],
     "rate_per_second": 10_000, "burst": 10_000},
    {"name": "reports-only", "token_sha256": hash_token(TOKEN_REPORTS),
     "allowed_types": ["report.received", "report.screened"], "rate_per_second": 10_000},
    {"name": "slow", "token_sha256": [hash_token(TOKEN_SLOW)], "allowed_types": ["*"],
     "rate_per_second": 0.5, "burst": 3},
]


class MemorySink:
    """What the Kafka sink would send, kept in lists (dead letters in the shared format)."""

    def __init__(self) -> None:
        self.accepted: list[tuple[bytes, bytes]] = []
        self.dead: list = []

    def submit(self, accepted, rejected, source: str) -> None:
        self.accepted.extend(accepted)
        for entry in rejected:
            extra = entry[2] if len(entry) > 2 else {}
            self.dead.append(dead_letter_record(entry[0], entry[1], source=source, **extra))

    def ready(self, timeout_s: float = 2.0) -> bool:
        return True


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(sink: MemorySink, clock=None, **kwargs) -> TestClient:
    settings = load_settings()
    limiter = RateLimiter(clock) if clock is not None else None
    return TestClient(create_app(settings, Sources.from_dicts(SOURCES), sink, limiter=limiter, **kwargs))


def post(http: TestClient, body, token: str | None = TOKEN_ALL):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return http.post("/v1/events", content=orjson.dumps(body), headers={**headers, "Content-Type": "application/json"})


EVENT = ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola")


def test_401_without_or_with_a_wrong_token_reaches_nothing():
    sink = MemorySink()
    with client(sink) as http:
        for token in (None, "nobody-has-this-token-000000000000", ""):
            r = post(http, EVENT, token=token)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized"
            assert r.headers["www-authenticate"].startswith("Bearer")
        assert post(http, EVENT).status_code == 200
    assert len(sink.accepted) == 1 and sink.dead == []


def test_403_for_a_type_the_source_may_not_send():
    sink = MemorySink()
    placement = ev("placement.started", "2024-03-02T09:15:00+01:00", placement_id="p1",
                   placement_type="hvb", daily_cost_sek=4000)
    with client(sink) as http:
        r = post(http, [EVENT, placement], token=TOKEN_REPORTS)
        assert r.status_code == 403 and r.json()["types"] == ["placement.started"]
        assert sink.accepted == [] and sink.dead == []
        assert post(http, [EVENT], token=TOKEN_REPORTS).status_code == 200
    assert len(sink.accepted) == 1


def test_413_past_the_body_limit():
    sink = MemorySink()
    with client(sink, max_body_bytes=4096) as http:
        r = post(http, [EVENT] * 100)
        assert r.status_code == 413
        assert r.json()["error"] == "payload_too_large" and r.json()["limit_bytes"] == 4096
    assert sink.accepted == []


def test_429_past_the_burst_with_retry_after_and_a_bucket_per_source():
    sink = MemorySink()
    clock = FrozenClock()

    def fresh():
        return ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola")

    with client(sink, clock) as http:
        assert [post(http, fresh(), token=TOKEN_SLOW).status_code for _ in range(3)] == [200, 200, 200]
        r = post(http, fresh(), token=TOKEN_SLOW)
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
        assert int(r.headers["retry-after"]) >= 1
        assert len(sink.accepted) == 3  # the refused request reached nothing
        assert post(http, fresh()).status_code == 200  # another source, another bucket
        clock.now += int(r.headers["retry-after"])
        assert post(http, fresh(), token=TOKEN_SLOW).status_code == 200
    assert len(sink.accepted) == 5


def test_a_bad_event_becomes_a_dead_letter_in_the_shared_format():
    sink = MemorySink()
    bad = {**EVENT, "type": "no.such.type"}
    with client(sink) as http:
        assert post(http, [EVENT, bad]).status_code == 200
    assert len(sink.accepted) == 1 and len(sink.dead) == 1
    headers = dict(sink.dead[0].headers)
    assert headers["reason"] == b"unknown_type" and headers["source"] == b"http:all-types"
    assert headers["redacted"] == b"0"
