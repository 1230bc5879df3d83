"""The HTTP ingest API against the real Kafka: auth, limits, outcomes, topics, OpenAPI
(schemathesis), the dead-letter tools, and POST -> Kafka -> Replay end to end."""
from __future__ import annotations

import json
import time

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks as sc

from services.commands.dlq import count_dead_letters, replay_dead_letters
from services.ingest_api.sink import open_sink
from streams.core.replay import Replay
from tests.events import ev

from tests.integration.ingest_support import (TOKEN_ALL, TOKEN_ALL_ROTATED, TOKEN_REPORTS, TOKEN_SLOW, WRONG_TOKEN, auth,
                             has_personal_id, record_has_personal_id, records, running_service, settings_for)

FAKE_PNR = "20150412-1326"  # synthetic: valid date and Luhn digit, as in examples/csv


@pytest.fixture
def service(kafka_bootstrap, topic_factory):
    topics = topic_factory(partitions=4, prefix="ingestapi")
    with running_service(kafka_bootstrap, topics) as (url, app):
        yield url, topics, app


def _post(url, body, token=TOKEN_ALL, ndjson=False, **kw):
    headers = auth(token) if token else {}
    if ndjson:
        headers["Content-Type"] = "application/x-ndjson"
        return httpx.post(f"{url}/v1/events", content=body, headers=headers, timeout=30, **kw)
    return httpx.post(f"{url}/v1/events", content=orjson.dumps(body),
                      headers={**headers, "Content-Type": "application/json"}, timeout=30, **kw)


def test_health_ready_openapi(service):
    url, _topics, _app = service
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{url}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["kafka"] == "reachable"
    doc = httpx.get(f"{url}/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]["/v1/events"]["post"]["requestBody"]["content"]) == {"application/json", "application/x-ndjson"}


def test_401_without_or_with_wrong_token(service):
    url, topics, _ = service
    event = ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola")
    for token in (None, WRONG_TOKEN, ""):
        r = _post(url, event, token=token)
        assert r.status_code == 401, token
        assert r.json()["error"] == "unauthorized"
        assert r.headers["www-authenticate"].startswith("Bearer")
    r = httpx.post(f"{url}/v1/events", json=event, headers={"Authorization": f"Basic {TOKEN_ALL}"})
    assert r.status_code == 401
    assert records(_bootstrap(service), topics.case_topic) == []


def _bootstrap(service) -> str:
    return service[2].state.service.settings.kafka_bootstrap


def test_rotated_token_works_too(service):
    url, _topics, _ = service
    event = ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola")
    assert _post(url, event, token=TOKEN_ALL_ROTATED).status_code == 200


def test_403_names_the_type_and_stores_nothing(service):
    url, topics, _ = service
    events = [ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola"),
              ev("placement.started", "2024-03-02T09:15:00+01:00", placement_id="p1",
                 placement_type="hvb", daily_cost_sek=4000)]
    r = _post(url, events, token=TOKEN_REPORTS)
    assert r.status_code == 403
    body = r.json()
    assert body["error"] == "event_type_not_allowed" and body["types"] == ["placement.started"]
    assert "placement.started" in body["detail"]
    bootstrap = _bootstrap(service)
    assert records(bootstrap, topics.case_topic) == [] and records(bootstrap, topics.dead_letter_topic) == []
    assert _post(url, events[:1], token=TOKEN_REPORTS).status_code == 200


def test_413_for_oversized_bodies(service):
    url, topics, _ = service
    big = b"\n".join(orjson.dumps(ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola"))
                     for _ in range(12_000))
    assert len(big) > 1 << 20
    r = _post(url, big, ndjson=True)
    assert r.status_code == 413
    assert r.json() == {"error": "payload_too_large", "limit_bytes": 1 << 20,
                        "detail": "request body exceeds the limit of 1048576 bytes; split the batch"}

    def chunks():  # no Content-Length: the limit holds on the streamed body too
        for start in range(0, len(big), 64 * 1024):
            yield big[start:start + 64 * 1024]

    r = httpx.post(f"{url}/v1/events", content=chunks(),
                   headers={**auth(), "Content-Type": "application/x-ndjson"}, timeout=30)
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    assert records(_bootstrap(service), topics.case_topic) == []


def test_429_past_the_rate_limit(service):
    url, _topics, _ = service
    event = ev("report.received", "2024-03-02T09:15:00+01:00", reporter="skola")
    statuses = [_post(url, event, token=TOKEN_SLOW).status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200]  # the burst
    assert 429 in statuses[3:]
    r = _post(url, event, token=TOKEN_SLOW)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1 and r.json()["error"] == "rate_limited"
    # other sources have their own bucket
    assert _post(url, event).status_code == 200
    time.sleep(int(r.headers["retry-after"]) + 0.1)
    assert _post(url, event, token=TOKEN_SLOW).status_code == 200


def test_415_for_other_media_types(service):
    url, _topics, _ = service
    r = httpx.post(f"{url}/v1/events", content=b"a=b", headers={**auth(), "Content-Type": "text/plain"})
    assert r.status_code == 415 and "application/x-ndjson" in r.json()["supported"]


def test_outcomes_topics_keys_and_dead_letters(service):
    url, topics, app = service
    good = [ev("report.received", "2024-03-02T09:15:00+01:00", case=f"case-{i}", reporter="skola") for i in range(5)]
    bad_unit = ev("report.received", "2024-03-02T09:15:00+01:00", unit="BoU Öst", reporter="skola")
    with_pnr = ev("report.received", "2024-03-02T09:15:00+01:00", case=FAKE_PNR, reporter="skola")
    r = _post(url, [*good, good[0], bad_unit, with_pnr, 42])
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (5, 1, 3)
    assert body["results"][5] == {"index": 5, "status": "duplicate"}
    assert body["results"][6] == {"index": 6, "status": "rejected", "reason": "bad_value", "field": "unit"}
    assert body["results"][7] == {"index": 7, "status": "rejected", "reason": "personal_id_in_payload"}
    assert body["results"][8] == {"index": 8, "status": "rejected", "reason": "bad_type", "field": "event"}
    for event in good:  # no echo: not even the event id
        assert event["event_id"].encode() not in r.content
    # sent again later: duplicates of recently seen (source, case, event_id)
    again = _post(url, good[:2]).json()
    assert [x["status"] for x in again["results"]] == ["duplicate", "duplicate"]
    # NDJSON, with a blank line and a broken line
    lines = [orjson.dumps(ev("report.screened", "2024-03-03T10:00:00+01:00", case="case-0", outcome="no_investigation")),
             b"", b"{not json", orjson.dumps(ev("report.received", "2024-03-04T10:00:00+01:00", case="case-9",
                                                  reporter="polis"))]
    r = _post(url, b"\r\n".join(lines) + b"\n", ndjson=True)
    assert [(x["index"], x["status"], x.get("reason")) for x in r.json()["results"]] == [
        (0, "accepted", None), (1, "rejected", "invalid_json"), (2, "accepted", None)]

    bootstrap = _bootstrap(service)
    on_topic = records(bootstrap, topics.case_topic)
    assert len(on_topic) == 7
    for record in on_topic:
        event = orjson.loads(record.value)
        assert record.key == event["case_id"].encode()
    assert {orjson.loads(r.value)["event_id"] for r in on_topic} >= {e["event_id"] for e in good}
    dead = records(bootstrap, topics.dead_letter_topic)
    assert len(dead) == 4
    assert sorted(dict(d.headers)["reason"].decode() for d in dead) == sorted(
        ["bad_value", "personal_id_in_payload", "bad_type", "invalid_json"])
    assert not any(record_has_personal_id(d) for d in dead + on_topic)
    assert FAKE_PNR.encode() not in b"".join(d.value for d in dead)

    metrics = httpx.get(f"{url}/metrics").text
    assert 'casewatch_ingest_api_events_total{outcome="accepted",source="all-types"} 7.0' in metrics
    assert 'casewatch_ingest_api_rejections_total{reason="personal_id_in_payload",source="all-types"} 1.0' in metrics
    assert 'casewatch_ingest_api_requests_total{source="all-types",status="200"} 3.0' in metrics


def test_dead_letter_tools_list_and_replay(service):
    url, topics, app = service
    bootstrap = _bootstrap(service)
    # an event with an unknown type, and one whose unit breaks the pattern: both dead-lettered
    future = ev("report.received", "2024-03-02T09:15:00+01:00", case="c-future", reporter="skola")
    future["type"] = "report.reopened"
    fixable = ev("report.received", "2024-03-02T09:15:00+01:00", case="c-fix", reporter="skola")
    pnr = ev("report.received", "2024-03-02T09:15:00+01:00", case="c-pnr", reporter="skola", comment=f"se {FAKE_PNR}")
    r = _post(url, [future, pnr, {"type": "report.received"}])
    assert [x["status"] for x in r.json()["results"]] == ["rejected"] * 3
    counts = count_dead_letters(records(bootstrap, topics.dead_letter_topic))
    assert counts["total"] == 3
    assert counts["by_reason"] == {"unknown_type": 1, "personal_id_in_payload": 1, "missing_field": 1}
    assert counts["by_source"] == {"http:all-types": 3}
    assert FAKE_PNR not in orjson.dumps(counts).decode()

    # a dead letter that is valid today (as after a validator fix): put one on the DLQ directly
    settings = settings_for(bootstrap, topics)
    sink = open_sink(settings)
    try:
        from streams.contract.validate import Rejection

        sink.submit([], [(orjson.dumps(fixable), Rejection("unknown_type", "type"))], "old-ingest")
        result = replay_dead_letters(records(bootstrap, topics.dead_letter_topic), sink)
        assert (result["considered"], result["resubmitted"], result["not_replayable_redacted"]) == (4, 1, 1)
        assert result["still_invalid_by_reason"] == {"unknown_type": 1, "missing_field": 1}
        again = replay_dead_letters(records(bootstrap, topics.dead_letter_topic), sink, reason="unknown_type")
        assert (again["considered"], again["resubmitted"], again["still_invalid"]) == (2, 1, 1)
    finally:
        sink.close()
    replay = Replay()
    replay.add_lines(rec.value for rec in records(bootstrap, topics.case_topic))
    assert (replay.accepted, replay.duplicates) == (1, 1)  # replayed twice, counted once


def test_end_to_end_post_kafka_replay(service):
    """POST -> Kafka -> the reference replay over the topic's messages equals the replay of the
    events posted (the worker/exporter path is tested by their own suites)."""
    url, topics, _ = service
    events = _sample_events()
    body = b"\n".join(orjson.dumps(e) for e in events)
    for start in range(0, len(events), 400):
        chunk = b"\n".join(orjson.dumps(e) for e in events[start:start + 400])
        r = _post(url, chunk, ndjson=True)
        assert r.status_code == 200 and r.json()["rejected"] == 0
    expected = Replay()
    expected.add_lines(body.split(b"\n"))
    got = Replay()
    got.add_lines(rec.value for rec in records(_bootstrap(service), topics.case_topic))
    as_of = expected.latest
    assert got.result(as_of) == expected.result(as_of)


def _sample_events() -> list[dict]:
    out = []
    for i in range(300):
        case = f"case-{i}"
        day = 1 + i % 27
        out.append(ev("report.received", f"2024-03-{day:02d}T09:00:00+01:00", case=case, unit=f"bou-{i % 3}",
                      reporter="skola"))
        if i % 2:
            out.append(ev("report.screened", f"2024-03-{day:02d}T15:00:00+01:00", case=case, unit=f"bou-{i % 3}",
                          outcome="investigation_opened"))
            out.append(ev("investigation.opened", f"2024-03-{day:02d}T15:30:00+01:00", case=case,
                          unit=f"bou-{i % 3}", area="barn_unga"))
        if i % 5 == 0:
            out.append(ev("placement.started", f"2024-03-{day:02d}T12:00:00+01:00", case=case, unit="plac",
                          placement_id=f"pl-{i}", placement_type="hvb", daily_cost_sek=4458))
    return out


# --- schemathesis over the OpenAPI document ------------------------------------------------------

_NDJSON = st.lists(st.fixed_dictionaries({
    "event_id": st.text(min_size=1, max_size=12), "type": st.sampled_from(["report.received", "nope"]),
    "occurred_at": st.sampled_from(["2024-03-02T09:15:00+01:00", "yesterday"]),
    "municipality": st.sampled_from(["0138", "x"]), "unit": st.sampled_from(["bou-1", "B"]),
    "case_id": st.text(min_size=1, max_size=12), "data": st.just({"reporter": "skola"})}), max_size=5).map(
    lambda events: b"\n".join(orjson.dumps(e) for e in events))
schemathesis.openapi.media_type("application/x-ndjson", _NDJSON)

def _send(client: httpx.Client, kwargs: dict) -> httpx.Response:
    """Send a generated case with httpx (schemathesis builds requests-style arguments)."""
    body = kwargs.get("data")
    if "json" in kwargs:
        body = json.dumps(kwargs["json"]).encode()
    elif isinstance(body, str):
        body = body.encode("utf-8")
    return client.request(kwargs["method"], kwargs["url"], params=kwargs.get("params"), headers=kwargs.get("headers"),
                          cookies=kwargs.get("cookies"), content=body)


CHECKS = [sc.not_a_server_error, sc.status_code_conformance, sc.content_type_conformance,
          sc.response_schema_conformance, sc.response_headers_conformance]


def test_schemathesis_over_openapi(service):
    """A bounded property-based run over every operation of /openapi.json. The API answers 200
    with per-event rejections for schema-invalid events (they go to the dead-letter topic), so
    schemathesis' negative_data_rejection check does not apply by design."""
    url, topics, _ = service
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} >= {("POST", "/v1/events"), ("GET", "/readyz")}
    client = httpx.Client(timeout=30)
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=25 if operation.path == "/v1/events" else 3, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = _send(client, case.as_transport_kwargs(base_url=url, headers=auth()))
            case.validate_response(response, checks=CHECKS)
            assert not has_personal_id(response.content)

        run()
    client.close()
    assert not any(record_has_personal_id(r) for r in records(_bootstrap(service), topics.case_topic))


def test_dlq_replay_passes_on_the_contract_fields_only_and_checks_the_unit_registry(kafka_bootstrap, topic_factory):
    """A dead letter made valid again reaches the case topic re-serialised (its extra fields
    dropped, CONTRACT.md §1a), and one for an unregistered unit stays a dead letter while the
    registry does not list it."""
    from streams.contract.validate import Rejection

    topics = topic_factory(partitions=1, prefix="dlqcanon")
    settings = settings_for(kafka_bootstrap, topics)
    fixable = {**ev("report.received", "2024-05-01T10:00:00+02:00", case="c-fix", reporter="skola"),
               "fritext": "samtal med mamma", "type": "report.received"}
    elsewhere = ev("report.received", "2024-05-01T10:00:00+02:00", case="c-unit", unit="ny-enhet", reporter="skola")
    sink = open_sink(settings)
    try:
        sink.submit([], [(orjson.dumps(fixable), Rejection("unknown_type", "type")),
                         (orjson.dumps(elsewhere), Rejection("unknown_unit", "unit"))], "old-ingest")
        result = replay_dead_letters(records(kafka_bootstrap, topics.dead_letter_topic), sink,
                                     registry={("0138", "bou-1")})
    finally:
        sink.close()
    assert (result["resubmitted"], result["still_invalid_by_reason"]) == (1, {"unknown_unit": 1})
    [passed_on] = records(kafka_bootstrap, topics.case_topic)
    event = orjson.loads(passed_on.value)
    assert "fritext" not in event and b"samtal" not in passed_on.value
    assert (event["event_id"], event["case_id"], passed_on.key) == (fixable["event_id"], "c-fix", b"c-fix")
