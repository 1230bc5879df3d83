"""The worker's pure per-case state: dedup, re-fold, bytes, batches and dead letters."""
from __future__ import annotations

import random
from datetime import datetime

import zlib

import orjson
import pytest

from services.simulator import SimulationSpec, simulate
from streams.contract.personal_id import contains_personal_id
from streams.contract.validate import Event, Rejection, validate_line
from streams.core.facts import facts_from_json, facts_to_json, fold_case
from streams.core.kpis import Period, compute
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM
from streams.case_state import COMPACT, Batch, CaseState, split_key, table_key
from streams.dead_letter import dead_letter_record, redact_bytes
from tests.events import ev, line

PERSONNUMMER = "19900101-0017"  # valid date and Luhn: a personal identity number


def event(e: dict) -> Event:
    out = validate_line(line(e))
    assert type(out) is Event, out
    return out


CASE = [
    ev("report.received", "2024-03-01T09:00:00+01:00", case="c1", reporter="skola", event_id="r1"),
    ev("report.protection_assessed", "2024-03-01T15:00:00+01:00", case="c1", immediate_protection=False, event_id="p1"),
    ev("report.screened", "2024-03-10T10:00:00+01:00", case="c1", outcome="investigation_opened", event_id="s1"),
    ev("investigation.opened", "2024-03-10T10:05:00+01:00", case="c1", area="barn_unga", event_id="i1"),
    ev("investigation.extended", "2024-06-01T10:00:00+02:00", case="c1", new_due="2024-09-10T10:05:00+02:00", event_id="x1"),
    ev("decision.made", "2024-04-02T11:00:00+02:00", case="c1", decision_id="d1", intervention="placement", event_id="d1"),
    ev("placement.started", "2024-04-03T08:00:00+02:00", case="c1", placement_id="pl1", placement_type="hvb",
       daily_cost_sek=4458.5, event_id="pl1"),
    ev("placement.cost_changed", "2024-05-01T00:00:00+02:00", case="c1", placement_id="pl1", daily_cost_sek=5000,
       event_id="pc1"),
]


def test_table_key_round_trip():
    assert table_key("0138", "a/b") == b"0138/a/b"
    assert split_key(table_key("0138", "a/b")) == ("0138", "a/b")


def test_duplicate_changes_nothing():
    state = CaseState("0138", "c1")
    assert all(state.add(event(e)) for e in CASE)
    before = state.to_bytes()
    assert not state.add(event(CASE[3]))
    # same id, different content: still the first one counts (the id is the idempotency key)
    changed = dict(CASE[0], occurred_at="2024-03-05T09:00:00+01:00")
    assert not state.add(event(changed))
    assert state.to_bytes() == before
    assert len(state) == len(CASE)


@pytest.mark.parametrize("seed", range(5))
def test_fold_is_fold_case_of_the_set_in_any_order(seed):
    events = [event(e) for e in CASE]
    random.Random(seed).shuffle(events)
    state = CaseState("0138", "c1")
    for e in events + events[:3]:
        state.add(e)
    reference = fold_case("0138", [(e.ts, e.code, e.event_id, e.unit, e.payload) for e in events])
    assert state.fold() == reference
    assert state.facts_json() == facts_to_json(reference)
    as_of = events[0].ts
    assert state.fold(as_of) == fold_case("0138", [(e.ts, e.code, e.event_id, e.unit, e.payload) for e in events],
                                          as_of)


def test_serialisation_round_trip_keeps_the_facts():
    state = CaseState("0138", "c1")
    for e in CASE:
        state.add(event(e))
    raw = state.to_bytes()
    back = CaseState.from_bytes("0138", "c1", raw)
    assert back == state
    assert back.to_bytes() == raw
    assert back.facts_json() == state.facts_json()
    assert facts_from_json(back.facts_json()) == state.fold()
    # payload types survive: bool, int, float, timestamps as floats
    assert raw[:1] == COMPACT  # issue 13: stored compressed, a case's bytes bounded
    data = zlib.decompress(raw[1:])
    whole, _units, _spent = orjson.loads(data[4:4 + int.from_bytes(data[:4], "little")])
    assert whole["pl1"][3] == ["pl1", "hvb", 4458.5, None, "sol"]


def test_batch_loads_each_case_once_and_counts():
    store: dict[bytes, bytes] = {}
    seen = CaseState("0138", "c1")
    seen.add(event(CASE[0]))
    store[table_key("0138", "c1")] = seen.to_bytes()
    loads: list[bytes] = []

    def load(key):
        loads.append(key)
        return store.get(key)

    batch = Batch(load)
    for e in CASE + [CASE[1], ev("report.received", "2024-03-02T09:00:00+01:00", case="c2", reporter="polis")]:
        batch.add(event(e))
    batch.reject(Rejection("invalid_json"))
    batch.reject(Rejection("bad_type", "data"))
    assert loads == [table_key("0138", "c1"), table_key("0138", "c2")]
    assert batch.accepted == len(CASE) - 1 + 1  # r1 was already held
    assert batch.duplicates == 2  # r1 (held before) and p1 twice
    assert batch.outcomes() == {"accepted": len(CASE), "duplicate": 2, "rejected": 2}
    assert batch.rejected == {"invalid_json": 1, "bad_type": 1}
    assert batch.newest_ts == max(event(e).ts for e in CASE)
    written = {(m, c): facts_from_json(j) for m, c, j in batch.projections()}
    assert set(written) == {("0138", "c1"), ("0138", "c2")}


def test_a_batch_of_only_duplicates_still_touches_the_case():
    state = CaseState("0138", "c1")
    state.add(event(CASE[0]))
    batch = Batch({table_key("0138", "c1"): state.to_bytes()}.get)
    key, new = batch.add(event(CASE[0]))
    assert (key, new) == (table_key("0138", "c1"), False)
    assert [m for m, _c, _j in batch.projections()] == ["0138"]
    assert batch.newest_ts is None


def test_batches_over_a_simulated_stream_equal_the_replay():
    spec = SimulationSpec(municipalities=2, population=8000, months=2, seed=7,
                          end=datetime(2024, 5, 20, tzinfo=STOCKHOLM), invalid_rate=0.01)
    lines = list(simulate(spec))
    table: dict[bytes, bytes] = {}
    projection: dict[tuple[str, str], bytes] = {}
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for start in range(0, len(lines), 97):
        batch = Batch(table.get)
        for raw in lines[start:start + 97]:
            out = validate_line(raw)
            if type(out) is Rejection:
                batch.reject(out)
            else:
                batch.add(out)
        for key, case in batch.cases.items():
            table[key] = case.to_bytes()
        for m, c, facts_json in batch.projections():
            projection[(m, c)] = facts_json
        for k, v in batch.outcomes().items():
            counts[k] += v
    replay = Replay()
    replay.add_lines(lines)
    expected = replay.result()
    assert counts == {"accepted": expected["events"]["accepted"], "duplicate": expected["events"]["duplicates"],
                      "rejected": expected["events"]["rejected"]}
    period = Period.month_to_date(replay.latest)
    got = compute((facts_from_json(j) for j in projection.values()), replay.latest, period)
    assert got == expected["units"]


@pytest.mark.parametrize("raw", [
    f'{{"event_id":"e1","case_id":"{PERSONNUMMER}","data":{{}}}}'.encode(),
    b'{"event_id":"e1","note":"\\u0031\\u0039900101-0017"}',  # escaped digits
    f'{{"broken json {PERSONNUMMER}'.encode(),
    b'\xff\xfe not utf-8 199001010017',
])
def test_dead_letters_never_carry_a_personal_id(raw):
    key, value, headers = dead_letter_record(raw, Rejection("personal_id_in_payload"), source="casewatch-worker",
                                             key=PERSONNUMMER.encode())
    assert not contains_personal_id(value.decode("utf-8", "replace"))
    decoded = orjson.loads(value) if value.startswith(b"{") and b"broken" not in value else None
    if decoded is not None:
        assert not contains_personal_id(orjson.dumps(decoded).decode())
        assert "[personnummer]" in orjson.dumps(decoded).decode()
    assert key == b"[personnummer]"
    assert dict(headers)["reason"] == b"personal_id_in_payload"
    assert dict(headers)["redacted"] == b"1"


def test_dead_letter_keeps_clean_input_as_it_came():
    raw = b'{"event_id": "e1",  "type": "nope"}'
    key, value, headers = dead_letter_record(raw, Rejection("unknown_type", "type"), source="casewatch-worker", key=b"c1")
    assert (value, key) == (raw, b"c1")
    assert dict(headers) == {"reason": b"unknown_type", "field": b"type", "source": b"casewatch-worker",
                             "redacted": b"0"}
    empty = dead_letter_record(None, Rejection("invalid_json"), source="casewatch-worker")
    assert (empty.value, empty.key) == (b"", None)
    assert redact_bytes(b"case 12345678") == b"case 12345678"


def _plain(value: object) -> object:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def test_facts_json_is_every_named_tuple_as_a_plain_list():
    """The projection's bytes: the same as a walk turning every tuple into a list (the encoding
    facts_to_json used before it let orjson call back per named tuple)."""
    spec = SimulationSpec(municipalities=2, population=8000, months=3, seed=19,
                          end=datetime(2024, 5, 20, tzinfo=STOCKHOLM))
    replay = Replay()
    replay.add_lines(simulate(spec))
    facts = list(replay.facts())
    assert len(facts) > 100
    for f in facts:
        assert facts_to_json(f) == orjson.dumps(_plain(f))
        assert facts_from_json(facts_to_json(f)) == f
    with pytest.raises(TypeError):
        facts_to_json(("0138", {1, 2}))
