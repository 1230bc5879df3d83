"""The ingest API under a flood, against the real Kafka: events per request, events per second,
slow clients, the connection cap, deep and huge bodies; memory stays bounded. Loops are bounded."""
from __future__ import annotations

import resource
import socket
import time

import httpx
import orjson
import pytest

from streams.contract.unit_registry import parse_registry
from tests.events import ev
from tests.integration.ingest_support import SOURCES, TOKEN_ALL, auth, hash_token, records, running_service

TOKEN_METERED = "test-token-metered-source-0123456789ab"
TOKEN_BOUND = "test-token-bound-to-0138-0123456789abcd"
LIMITED_SOURCES = SOURCES + [
    {"name": "metered", "token_sha256": [hash_token(TOKEN_METERED)], "allowed_types": ["*"],
     "rate_per_second": 10_000, "events_per_second": 0.5, "event_burst": 20},
    {"name": "bound", "token_sha256": [hash_token(TOKEN_BOUND)], "allowed_types": ["*"],
     "municipalities": ["0138"]},
]
MAX_EVENTS = 100


@pytest.fixture
def limited(kafka_bootstrap, topic_factory):
    topics = topic_factory(partitions=1, prefix="apilimits")
    registry = parse_registry({"units": [
        {"municipality": "0138", "unit": "bou-1", "name": "Barn och unga 1"},
        {"municipality": "0180", "unit": "bou-1", "name": "Barn och unga, Stockholm", "sources": ["all-types"]},
    ]})
    with running_service(kafka_bootstrap, topics, LIMITED_SOURCES, max_events=MAX_EVENTS, body_timeout_s=2,
                         registry=registry,
                         server_limits={"max_connections": 8, "header_timeout_s": 1.5, "idle_timeout_s": 1}) as (url, _):
        yield url, topics, kafka_bootstrap


def _post(url, content: bytes, token=TOKEN_ALL, content_type="application/json"):
    return httpx.post(f"{url}/v1/events", content=content, timeout=30,
                      headers={**auth(token), "Content-Type": content_type})


def _event(i: int, municipality="0138", unit="bou-1") -> dict:
    event = ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola", event_id=f"e{i}", case=f"c{i}")
    event["municipality"], event["unit"] = municipality, unit
    return event


def test_a_megabyte_of_zeros_is_one_small_refusal_and_no_dead_letters(limited):
    url, topics, bootstrap = limited
    zeros = b"[" + b"0," * 524_286 + b"0]"
    r = _post(url, zeros)
    assert r.status_code == 413 and r.json()["error"] == "too_many_events" and len(r.content) < 300
    lines = b"\n".join([b"0"] * (MAX_EVENTS + 1))
    r = _post(url, lines, content_type="application/x-ndjson")
    assert r.status_code == 413 and r.json()["limit_events"] == MAX_EVENTS
    assert records(bootstrap, topics.dead_letter_topic) == []
    assert records(bootstrap, topics.case_topic) == []


def test_the_answer_summarises_and_is_bounded_by_the_cap(limited):
    url, topics, bootstrap = limited
    body = orjson.dumps([0] * MAX_EVENTS)
    r = _post(url, body)
    assert r.status_code == 200
    answer = r.json()
    assert answer["rejected"] == MAX_EVENTS and answer["rejected_by_reason"] == {"bad_type": MAX_EVENTS}
    assert len(answer["results"]) == MAX_EVENTS


def test_rate_limits_count_events_not_requests(limited):
    url, _topics, _ = limited
    batch = orjson.dumps([_event(i) for i in range(15)])
    assert _post(url, batch, TOKEN_METERED).status_code == 200  # 15 of the 20-event burst
    r = _post(url, batch, TOKEN_METERED)  # 15 more: over, though only the second request
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "events" in r.json()["detail"]


def test_sources_are_bound_to_their_municipalities_and_registry_units(limited):
    url, topics, bootstrap = limited
    r = _post(url, orjson.dumps([_event(1), _event(2, municipality="0180")]), TOKEN_BOUND)
    assert r.status_code == 403 and r.json()["municipalities"] == ["0180"]
    r = _post(url, orjson.dumps(_event(3, municipality="0180")), auth_token := TOKEN_METERED)
    assert r.status_code == 403 and r.json()["units"] == ["0180/bou-1"], auth_token
    r = _post(url, orjson.dumps([_event(4), _event(5, unit="okand-enhet")]))
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "rejected"]
    assert r.json()["results"][1]["reason"] == "unknown_unit"
    assert len(records(bootstrap, topics.case_topic)) == 1
    # the unknown unit is dead-lettered with its reason, as on every path (the refusals above send nothing)
    from streams.dead_letter import header

    letters = records(bootstrap, topics.dead_letter_topic)
    assert [(header(x.headers, "reason"), orjson.loads(x.value)["unit"]) for x in letters] == \
        [("unknown_unit", "okand-enhet")]


def test_only_the_contracts_fields_reach_kafka(limited):
    url, topics, bootstrap = limited
    event = _event(7)
    event["extra"] = {"free": "text the contract does not know"}
    event["data"]["comment"] = "neither"
    r = _post(url, orjson.dumps(event, option=orjson.OPT_INDENT_2))
    assert r.json()["accepted"] == 1
    [record] = records(bootstrap, topics.case_topic)
    stored = orjson.loads(record.value)
    assert "extra" not in stored and stored["data"] == {"reporter": "skola"}
    assert b"\n" not in record.value


def test_deep_and_huge_bodies_are_clean_rejections(limited):
    url, _topics, _ = limited
    deep = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = _post(url, deep)
    assert r.status_code == 200 and r.json()["results"][0]["reason"] == "too_deep"
    r = _post(url, b"[" + deep + b"]")
    assert r.status_code == 200 and r.json()["results"][0]["reason"] == "too_deep"
    r = _post(url, deep, content_type="application/x-ndjson")
    assert r.json()["results"][0]["reason"] == "too_deep"
    r = _post(url, b'{"a":"' + b"x" * 10_000_000 + b'"}')
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    assert httpx.get(f"{url}/healthz").status_code == 200


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_a_client_trickling_headers_is_cut_off(limited):
    url, _topics, _ = limited
    sock = _connect(url)
    sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    assert sock.recv(1024) == b""  # the server closed the connection
    assert 1.0 < time.monotonic() - started < 8
    sock.close()


def test_a_body_that_never_arrives_gets_408(limited):
    url, _topics, _ = limited
    sock = _connect(url)
    sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN_ALL.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[")
    answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")
    sock.close()


def test_the_connection_cap_answers_503_and_frees_up(limited):
    url, _topics, _ = limited
    idle = [_connect(url) for _ in range(8)]
    try:
        time.sleep(0.2)
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 503
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 10
    while httpx.get(f"{url}/healthz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_memory_stays_bounded_under_a_flood(limited):
    url, topics, bootstrap = limited
    body = orjson.dumps([{"event_id": "x" * 64, "type": "nope", "pad": "y" * 9000}] * MAX_EVENTS)
    assert len(body) < 1 << 20
    with httpx.Client(timeout=30) as client:
        def flood(n: int) -> None:
            for _ in range(n):
                r = client.post(f"{url}/v1/events", content=body, headers={**auth(), "Content-Type": "application/json"})
                assert r.status_code == 200 and r.json()["rejected"] == MAX_EVENTS

        flood(5)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        flood(40)
        grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    # 40 more requests of ~1 MiB each: the peak must not grow with their number.
    assert grown_kib < 64 * 1024, grown_kib
