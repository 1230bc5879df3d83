"""Requests without a valid token, limited per client address (services/ingest_api/auth_failures.py):
401 with an audit line each up to the limit, then 429 with Retry-After summed up in one audit
line per address and window; valid tokens are served from a flooded address."""
from __future__ import annotations

import asyncio
import logging

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from services.audit import AuditLog
from services.ingest_api.app import create_app
from services.ingest_api.auth import Sources
from services.ingest_api.auth_failures import AuthFailureLimiter, address_key
from services.ingest_api.server import ServerThread
from streams.settings import load_settings
from tests.unit.services.test_ingest_api_in_memory import EVENT, SOURCES, TOKEN_ALL, FrozenClock, MemorySink

BAD = "nobody-has-this-token-000000000000"


class AuditLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(record.getMessage()))


@pytest.fixture
def audit():
    logger = logging.getLogger(f"test.audit.{id(object())}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = AuditLines()
    logger.addHandler(handler)
    return AuditLog(logger), handler.lines


def _app(sink, clock, audit_log, per_minute=5, **kwargs):
    limiter = AuthFailureLimiter(per_minute, clock=clock, **kwargs)
    return create_app(load_settings(), Sources.from_dicts(SOURCES), sink, audit=audit_log, auth_failures=limiter)


def _post(http: TestClient, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post("/v1/events", content=orjson.dumps(EVENT), headers={**headers, "Content-Type": "application/json"})


def test_a_flood_from_one_address_gets_429_after_n_and_other_addresses_and_valid_tokens_go_on(audit):
    audit_log, lines = audit
    sink, clock = MemorySink(), FrozenClock()
    app = _app(sink, clock, audit_log)
    with TestClient(app, client=("198.51.100.7", 40000)) as flood, \
            TestClient(app, client=("198.51.100.8", 40000)) as other:
        assert [_post(flood, BAD).status_code for _ in range(5)] == [401] * 5
        assert _post(flood, None).status_code == 429  # no header at all is a failure too
        r = _post(flood, BAD)
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
        assert r.headers["retry-after"] == "12" and r.json()["retry_after_s"] == 12  # 5 a minute: one per 12 s
        assert _post(other, BAD).status_code == 401  # another address has its own bucket
        assert _post(flood, TOKEN_ALL).status_code == 200  # a valid token from the flooded address is served
        clock.now += 12
        assert _post(flood, BAD).status_code == 401  # one token back after Retry-After
        assert _post(flood, BAD).status_code == 429
    assert len(sink.accepted) == 1
    failures = [line for line in lines if line["actor"] == "unauthenticated"]
    # each 401 has its own line; the three 429s have none yet (their window has not ended)
    assert [(line["client"], line["outcome"]) for line in failures] == (
        [("198.51.100.7", "401")] * 5 + [("198.51.100.8", "401"), ("198.51.100.7", "401")])
    assert [line["actor"] for line in lines].count("all-types") == 1


def test_the_audit_trail_of_10000_bad_requests_is_bounded_and_counts_every_one(audit):
    audit_log, lines = audit
    sink, clock = MemorySink(), FrozenClock()
    app = _app(sink, clock, audit_log, per_minute=20)
    statuses = {401: 0, 429: 0}
    step = 0.012  # 10,000 requests in 120 s

    async def flood() -> int:
        # one event loop, no TestClient thread hop: 10,000 requests in seconds, not a minute
        transport = httpx.ASGITransport(app, client=("203.0.113.9", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as http:
            headers = {"Authorization": f"Bearer {BAD}", "Content-Type": "application/json"}
            for _ in range(10_000):
                statuses[(await http.post("/v1/events", content=b"{}", headers=headers)).status_code] += 1
                clock.now += step
            clock.now += 60
            return (await http.post("/v1/events", content=orjson.dumps(EVENT), headers={
                "Authorization": f"Bearer {TOKEN_ALL}", "Content-Type": "application/json"})).status_code

    assert asyncio.run(flood()) == 200  # any request writes the summaries that are due
    # 20 at once (the 20th at 19 steps), then one every 3 s until the last request at 9,999 steps
    assert statuses[401] == 20 + int((9_999 - 19) * step / 3) == 59 and statuses[429] == 10_000 - 59
    failures = [line for line in lines if line["actor"] == "unauthenticated"]
    summaries = [line for line in failures if line["outcome"] == "429"]
    assert len([line for line in failures if line["outcome"] == "401"]) == statuses[401]
    assert len(summaries) == 2  # one per 60 s window of refusals, and the flood lasted 120 s
    assert sum(line["refused"] for line in summaries) == statuses[429]
    assert all(line["client"] == "203.0.113.9" and line["window_s"] >= 60 for line in summaries)
    assert len(failures) == 61  # against 10,000 lines (about 1.7 MB) before


def test_tracked_addresses_are_capped_and_an_evicted_addresses_refusals_still_reach_the_trail(audit):
    audit_log, lines = audit
    sink, clock = MemorySink(), FrozenClock()
    app = _app(sink, clock, audit_log, per_minute=1, capacity=3)
    with TestClient(app, client=("192.0.2.1", 1)) as first:
        assert [_post(first, BAD).status_code for _ in range(4)] == [401, 429, 429, 429]
    for i in range(2, 6):
        with TestClient(app, client=(f"192.0.2.{i}", 1)) as http:
            assert _post(http, BAD).status_code == 401
    assert len(app.state.service.auth_failures) == 3
    summaries = [line for line in lines if line["outcome"] == "429"]
    assert [(line["client"], line["refused"]) for line in summaries] == [("192.0.2.1", 3)]


def test_ipv6_addresses_share_a_bucket_per_64_and_ipv4_mapped_ones_count_as_ipv4():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.4") == "192.0.2.4" and address_key("192.0.2.4") == "192.0.2.4"
    assert address_key(None) == "unknown"


def test_x_forwarded_for_is_believed_only_from_a_proxy_uvicorn_trusts(audit):
    """The app reads ``request.client``; uvicorn sets it from X-Forwarded-For only when the TCP
    peer is in FORWARDED_ALLOW_IPS (127.0.0.1 by default): a local proxy's clients are told
    apart, a remote client cannot pick an address (and a fresh bucket) by sending the header."""
    audit_log, lines = audit
    app = _app(MemorySink(), FrozenClock(), audit_log, per_minute=2)
    with TestClient(app, client=("198.51.100.20", 1)) as remote:
        statuses = [remote.post("/v1/events", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                    for i in range(3)]
        assert statuses == [401, 401, 429]
    with ServerThread(app) as url:  # the peer is 127.0.0.1, which uvicorn trusts by default
        for client in ("203.0.113.50", "203.0.113.51"):
            statuses = [httpx.post(f"{url}/v1/events", headers={"X-Forwarded-For": f"10.9.9.9, {client}"}).status_code
                        for _ in range(3)]
            assert statuses == [401, 401, 429]
    assert {line["client"] for line in lines} == {"198.51.100.20", "203.0.113.50", "203.0.113.51"}


def test_the_limit_comes_from_the_settings(monkeypatch):
    monkeypatch.setenv("CASEWATCH_INGEST_API_AUTH_FAILURES_PER_MINUTE", "3")
    app = create_app(load_settings(), Sources.from_dicts(SOURCES), MemorySink())
    with TestClient(app) as http:
        assert [_post(http, BAD).status_code for _ in range(4)] == [401, 401, 401, 429]
    with pytest.raises(SystemExit, match="ingest_api_auth_failures_per_minute"):
        load_settings(ingest_api_auth_failures_per_minute=0)
