"""Issue 13 without servers: the fenced projection write, the persisted-offset rule, the bound on a
case's stored bytes, and the dead letter of an oversized record."""
from __future__ import annotations

import zlib

import orjson

from streams.agents import contiguous_end
from streams.case_state import CaseState
from streams.contract.validate import Rejection, validate_line
from streams.dead_letter import dead_letter_record, withheld
from streams.projection import PipelineHealth
from streams.projection_memory import MemoryProjection
from streams.projection_fencing import CaseWrite


def _case(n: int) -> CaseWrite:
    return CaseWrite("0138", "c1", orjson.dumps(["0138", n]), n)


def test_a_later_generation_fences_the_whole_write():
    store = MemoryProjection()
    assert store.write_fenced([_case(3)], None, {0: 5}, {0: "5:a:1"}).lost == ()
    refused = store.write_fenced([_case(9)], PipelineHealth("w", {"accepted": 9}, {}), {0: 4, 1: 4}, {0: "4:b:1"})
    assert refused.lost == (0,)
    assert store.read_facts_raw("0138")[b"c1"] == orjson.dumps(["0138", 3])
    assert store.written_marks([0]) == {0: "5:a:1"}
    assert "events:accepted" not in store.fields  # a fenced batch counts nothing


def test_a_case_never_shrinks():
    store = MemoryProjection()
    store.write_fenced([_case(5)], None, {0: 1}, {})
    outcome = store.write_fenced([_case(4)], None, {0: 1}, {})
    assert (outcome.written, outcome.skipped) == (0, 1)
    assert store.read_facts_raw("0138")[b"c1"] == orjson.dumps(["0138", 5])
    assert store.write_fenced([_case(5)], None, {0: 2}, {}).written == 1


def test_persisted_offset_moves_only_over_own_contiguous_records():
    assert contiguous_end(9, [10, 11, 12]) == 12
    assert contiguous_end(9, [12, 10, 11]) == 12
    assert contiguous_end(9, [14, 15]) is None  # someone else wrote 10..13: recovery must read them
    assert contiguous_end(9, [10, 11, 20]) == 11
    assert contiguous_end(None, [3, 4]) == 4
    assert contiguous_end(5, []) is None


def test_a_case_of_22000_events_stays_far_below_a_megabyte():
    state = CaseState("0138", "c1")
    older: dict[str, list] = {}  # the same case as the formats before payments were compacted kept it
    for n in range(22_000):
        line = orjson.dumps({"event_id": f"ev-{n:08d}-{(n * 7919) % 100003:05x}", "type": "payment.made",
                             "occurred_at": f"2024-0{1 + n % 9}-1{n % 10}T10:{n % 60:02d}:00+01:00",
                             "municipality": "0138", "unit": "eb-1", "case_id": "c1",
                             "data": {"amount_sek": 1000 + n % 977}})
        event = validate_line(line)
        assert not isinstance(event, Rejection), event
        state.add(event)
        older[event.event_id] = [event.ts, event.code, event.unit, list(event.payload)]
    raw = state.to_bytes()
    assert len(raw) < 400_000, len(raw)
    assert CaseState.from_bytes("0138", "c1", raw) == state
    plain = orjson.dumps(older)  # what older versions stored: still read
    assert CaseState.from_bytes("0138", "c1", plain) == state
    assert CaseState.from_bytes("0138", "c1", b"z" + zlib.compress(plain)) == state


def test_an_oversized_record_is_dead_lettered_without_its_value():
    raw = b'{"event_id": "' + b"x" * 1_030_000 + b'"}'
    letter = dead_letter_record(raw, Rejection("invalid_json"), source="casewatch-worker", key=b"k")
    assert orjson.loads(letter.value) == {"withheld": "too_large", "bytes": len(raw)}
    assert dict(letter.headers)["redacted"] == b"1"
    small = dead_letter_record(b"{}", Rejection("missing_field"), source="casewatch-worker")
    marker = withheld(small, "MessageSizeTooLargeError")
    assert orjson.loads(marker.value)["withheld"] == "MessageSizeTooLargeError"
    assert dict(marker.headers)["reason"] == b"missing_field"


def test_a_flushed_write_mark_stays_missing_however_many_batches_follow():
    store = MemoryProjection()
    store.write_fenced([_case(1)], None, {0: 1}, {0: "1:w:1"})
    store.marks.clear()  # FLUSHDB (or an older snapshot without the mark)
    store.write_fenced([_case(2)], None, {0: 1}, {0: "1:w:2"}, previous={0: "1:w:1"})
    store.write_fenced([_case(3)], None, {0: 1}, {0: "1:w:3"}, previous={0: "1:w:2"})
    assert store.written_marks([0]) == {0: None}  # the worker sees it differs and re-projects
    store.write_fenced([], None, {0: 1}, {0: "1:w:4"})  # the re-projection's mark, no chain
    store.write_fenced([_case(4)], None, {0: 1}, {0: "1:w:5"}, previous={0: "1:w:4"})
    assert store.written_marks([0]) == {0: "1:w:5"}
