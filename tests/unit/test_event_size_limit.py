"""The size limit at the doors (streams/event_size.py): casewatch ingest, the ingest API and the
CSV importer refuse one event whose canonical JSON exceeds ``max_event_bytes`` with the reason
``too_large``, let the others through, and the setting is validated."""
from __future__ import annotations

import orjson
import pytest
from starlette.testclient import TestClient

from services.csv_import.importer import import_csv
from services.csv_import.mapping import Mapping
from services.csv_import.pseudonymise import Pseudonymiser
from services.ingest import ingest_lines
from services.ingest_api.app import create_app
from services.ingest_api.auth import Sources, hash_token
from streams.dead_letter import dead_letter_record, header
from streams.event_size import DEFAULT_MAX_EVENT_BYTES, TOO_LARGE
from streams.settings import load_settings
from tests.events import ev

LIMIT = 2048
TOKEN = "size-test-token-0123456789abcdef0123"


def ended(reason_chars: int, case: str = "c1") -> dict:
    """A valid event whose free-text reason makes it as large as wanted."""
    return ev("decision.ended", "2024-03-02T09:15:00+01:00", case=case, decision_id="d1", reason="x" * reason_chars)


SMALL, BIG = ended(100), ended(LIMIT + 10)


class Tracker:
    """What DeliveryTracker would send, kept."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.headers: list = []

    def send(self, topic, value, key=None, headers=None):
        self.sent.append((topic, value))
        self.headers.append(headers)

    def finish(self):
        pass


class Sink:
    def __init__(self) -> None:
        self.accepted, self.dead = [], []

    def submit(self, accepted, rejected, source):
        self.accepted.extend(accepted)
        for entry in rejected:
            extra = entry[2] if len(entry) > 2 else {}
            self.dead.append(dead_letter_record(entry[0], entry[1], source=source, **extra))

    def ready(self, timeout_s=2.0):
        return True


def test_the_setting_is_validated_and_far_below_the_message_limits():
    assert load_settings().max_event_bytes == DEFAULT_MAX_EVENT_BYTES == 65536
    assert load_settings(max_event_bytes=4096).max_event_bytes == 4096
    for bad in (100, 600_000, 2_000_000):  # too small for real events; near Faust's 1,000,000 or over it
        with pytest.raises(SystemExit, match="max_event_bytes"):
            load_settings(max_event_bytes=bad)


def test_casewatch_ingest_dead_letters_the_oversized_event_and_sends_the_rest():
    tracker = Tracker()
    lines = [orjson.dumps(SMALL), orjson.dumps(BIG), orjson.dumps(ended(50, case="c2"))]
    summary = ingest_lines(lines, tracker, "cases", "dlq", "f.jsonl", max_event_bytes=LIMIT)
    assert (summary.accepted, summary.rejected, dict(summary.rejected_by_reason)) == (2, 1, {TOO_LARGE: 1})
    assert [t for t, _ in tracker.sent] == ["cases", "dlq", "cases"]
    assert header(tracker.headers[1], "reason") == TOO_LARGE
    assert all(len(v) <= LIMIT for t, v in tracker.sent if t == "cases")


def _post(http, body, content_type="application/json"):
    return http.post("/v1/events", content=body,
                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type})


def test_the_ingest_api_answers_413_to_one_oversized_event_and_rejects_it_inside_a_batch():
    sink = Sink()
    sources = Sources.from_dicts([{"name": "src", "token_sha256": [hash_token(TOKEN)], "allowed_types": ["*"],
                                   "rate_per_second": 1000, "burst": 1000}])
    app = create_app(load_settings(max_event_bytes=LIMIT), sources, sink)
    with TestClient(app) as http:
        alone = _post(http, orjson.dumps(BIG))
        assert alone.status_code == 413
        assert alone.json()["error"] == "event_too_large" and alone.json()["limit_bytes"] == LIMIT
        assert sink.accepted == [] and sink.dead == []  # refused whole: nothing stored

        batch = _post(http, orjson.dumps([SMALL, BIG]))
        assert batch.status_code == 200
        assert batch.json()["results"] == [{"index": 0, "status": "accepted"},
                                           {"index": 1, "status": "rejected", "reason": TOO_LARGE}]
        ndjson = _post(http, orjson.dumps(ended(LIMIT, case="c3")) + b"\n" + orjson.dumps(ended(10, case="c4")),
                       "application/x-ndjson")
        assert [r["status"] for r in ndjson.json()["results"]] == ["rejected", "accepted"]
    assert len(sink.accepted) == 2 and all(len(v) <= LIMIT for _k, v in sink.accepted)
    assert [header(d.headers, "reason") for d in sink.dead] == [TOO_LARGE, TOO_LARGE]


def test_the_csv_importer_dead_letters_the_oversized_event(tmp_path):
    mapping = Mapping.model_validate({
        "name": "size", "envelope": {"municipality": "0138", "unit": "bou-1", "case_id": {"column": "case"}},
        "events": [{"type": "decision.ended", "occurred_at": {"column": "at", "format": "%Y-%m-%d %H:%M"},
                    "data": {"decision_id": {"column": "decision"}, "reason": {"column": "why"}}}]})
    path = tmp_path / "beslut.csv"
    path.write_text("case,at,decision,why\n"
                    f"a1,2024-03-01 10:00,d1,{'y' * 40}\n"
                    f"a2,2024-03-01 11:00,d2,{'y' * (LIMIT + 1)}\n", encoding="utf-8")
    sink = Sink()
    summary = import_csv(path, mapping, Pseudonymiser(b"unit-test-key-0123456789abcdef"), sink,
                         state_dir=tmp_path / "state", progress=False, max_event_bytes=LIMIT)
    assert summary["events_sent"] == 1 and summary["rejected_by_reason"] == {TOO_LARGE: 1}
    assert [header(d.headers, "reason") for d in sink.dead] == [TOO_LARGE]
