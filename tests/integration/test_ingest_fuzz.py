"""Fuzzing the validator and the HTTP body parser, then the running service against the real
Kafka: random and mutated events, some carrying synthetic personal ids. Nothing may crash or
answer 500, and no personal id may appear in a response, a log line or a Kafka message."""
from __future__ import annotations

import json
import random

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest_api.parsing import parse_body
from streams.contract.validate import Event, Rejection, validate_line, validate_object
from tests.events import ev
from tests.integration.ingest_support import (auth, captured_logs, has_personal_id, record_has_personal_id, records,
                                              running_service)

# synthetic numbers with a valid date and Luhn digit (never a real person's, see examples/csv)
FAKE_PNRS = ["20150412-1326", "201504121326", "150412-1326", "20080111-4216", "080111+4216", "19121212-1212"]
BASE = [
    ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola", age_band="0-12"),
    ev("placement.started", "2024-03-02T00:00:00+01:00", placement_id="pl-1", placement_type="hvb", daily_cost_sek=4458),
    ev("staff.joined", "2024-01-01T08:00:00+01:00", case="s-1", staff_id="s-1", role="socialsekreterare",
       employment="consultant", fte=0.5, daily_cost_sek=6000),
    ev("decision.ended", "2024-03-02T09:15:00+01:00", decision_id="d-1", reason="flyttat"),
]

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                      st.text(max_size=20), st.sampled_from(FAKE_PNRS),
                      st.sampled_from(FAKE_PNRS).map(lambda p: f"barnet {p} i skolan"))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                          max_leaves=12)


@st.composite
def mutated_event(draw) -> object:
    event = orjson.loads(orjson.dumps(draw(st.sampled_from(BASE))))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["set", "drop", "data", "pnr", "type"]))
        key = draw(st.sampled_from(list(event) or ["event_id"]))
        if op == "set":
            event[key] = draw(json_value)
        elif op == "drop":
            event.pop(key, None)
        elif op == "data" and isinstance(event.get("data"), dict):
            event["data"][draw(st.text(max_size=8))] = draw(json_value)
        elif op == "pnr":
            event[draw(st.sampled_from(["case_id", "event_id", "unit", "source", "extra"]))] = draw(st.sampled_from(FAKE_PNRS))
        else:
            event["type"] = draw(st.sampled_from(["report.received", "staff.left", "x", ""]))
    return event


def _raw_mutation(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        if not b:
            break
        i = rnd.randrange(len(b))
        choice = rnd.random()
        if choice < 0.4:
            b[i] = rnd.randrange(256)
        elif choice < 0.7:
            del b[i]
        else:
            b[i:i] = rnd.choice(FAKE_PNRS).encode()
    return bytes(b)


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")  # big ints too


events_or_junk = st.one_of(mutated_event(), json_value)


@given(st.lists(events_or_junk, max_size=6), st.randoms(use_true_random=False), st.booleans())
@settings(max_examples=300, deadline=None, database=None)
def test_validator_and_parser_never_raise(values, rnd, ndjson):
    lines = [_dumps(v) for v in values]
    if rnd.random() < 0.5 and lines:
        k = rnd.randrange(len(lines))
        lines[k] = _raw_mutation(lines[k], rnd)
    for line in lines:
        assert isinstance(validate_line(line), (Event, Rejection))
    for value in values:
        assert isinstance(validate_object(value), (Event, Rejection))
    body = b"\n".join(lines) if ndjson else b"[" + b",".join(lines) + b"]"
    for item in parse_body(body, "ndjson" if ndjson else "json"):
        assert isinstance(item.outcome, (Event, Rejection))
        if isinstance(item.outcome, Event):
            assert not has_personal_id(item.raw)


def test_fuzz_running_service(kafka_bootstrap, topic_factory):
    topics = topic_factory(partitions=2, prefix="ingestfuzz")
    statuses: dict[int, int] = {}
    with captured_logs() as logs, running_service(kafka_bootstrap, topics) as (url, _app):
        client = httpx.Client(timeout=30)

        @given(st.lists(events_or_junk, max_size=8), st.randoms(use_true_random=False),
               st.sampled_from(["json", "ndjson", "single", "raw"]))
        @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def post(values, rnd, mode):
            encoded = [_dumps(v) for v in values]
            if mode == "ndjson":
                body, ctype = b"\n".join(encoded), "application/x-ndjson"
            elif mode == "single":
                body, ctype = (encoded[0] if encoded else b"{}"), "application/json"
            elif mode == "raw":
                body, ctype = _raw_mutation(b"[" + b",".join(encoded) + b"]", rnd), "application/json"
            else:
                body, ctype = b"[" + b",".join(encoded) + b"]", "application/json"
            r = client.post(f"{url}/v1/events", content=body,
                            headers={**auth(), "Content-Type": ctype, "X-Note": "fuzz"},
                            params={"q": rnd.choice(FAKE_PNRS)} if rnd.random() < 0.2 else None)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code < 500, r.status_code
            assert not has_personal_id(r.content)

        post()
        client.close()
    assert set(statuses) <= {200, 403, 413}, statuses
    assert statuses.get(200, 0) > 50
    on_topics = records(kafka_bootstrap, topics.case_topic) + records(kafka_bootstrap, topics.dead_letter_topic)
    assert on_topics, "the fuzz run produced nothing"
    assert not any(record_has_personal_id(r) for r in on_topics)
    assert logs.lines, "no log line captured"
    assert not any(has_personal_id(line) for line in logs.lines)
