"""The compiled fast path gives :func:`validate_line`'s answer for every line: the same Event
(values and their types: an int stays an int, -0.0 stays -0.0) or the same Rejection.

The lines are valid events written the ways other systems write them (spacing, key orders,
``Z``/millisecond timestamps, extra fields, escapes, non-ASCII), then broken in the ways the
contract names: duplicate keys, deep nesting, huge numbers, nulls, wrong types, personal ids,
byte edits; with and without a unit registry. The independent generator's own lines too."""
import importlib.util
import itertools
import json
import random
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.contract.catalogue import CATALOGUE
from streams.contract.decode import MAX_DEPTH
from streams.contract.fast_validate import validate_line_fast
from streams.contract.validate import Event, validate_line
from tests.personal_ids import personal_ids, written_ids
from tests.unit.streams.test_properties import case_events, v2_case_events

REGISTRY = frozenset({("0138", "bou-1"), ("0138", "bou-2")})


def _same(raw: bytes | str, registry=None) -> None:
    fast, plain = validate_line_fast(raw, registry), validate_line(raw, registry)
    # repr tells 1 from 1.0 and 0.0 from -0.0, which == does not
    assert type(fast) is type(plain) and repr(fast) == repr(plain), raw


def _z_millis(stamp: str) -> str:
    """The same instant written as UTC with milliseconds: what many case systems write."""
    from datetime import datetime, timezone

    t = datetime.fromisoformat(stamp).astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _write(event: dict, style: str, rnd: random.Random) -> bytes:
    if style == "orjson":
        try:
            return orjson.dumps(event)
        except TypeError:  # an integer past 64 bits: orjson does not write it
            return json.dumps(event, separators=(",", ":")).encode()
    if style == "dumps":
        return json.dumps(event).encode()
    if style == "sorted":
        return json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
    if style == "shuffled":
        items = list(event.items())
        rnd.shuffle(items)
        return json.dumps(dict(items), ensure_ascii=False).encode()
    if style == "space-before-colon":
        return json.dumps(event, separators=(" , ", " : ")).encode()
    if style == "indented":
        return json.dumps(event, indent=1).encode()
    if style == "escaped":
        return json.dumps(event).replace('"case_id"', '"case\\u005fid"').encode()
    return (" \t" + json.dumps(event) + "\r\n").encode()  # surrounding whitespace


STYLES = ["orjson", "dumps", "sorted", "shuffled", "space-before-colon", "indented", "escaped", "padded"]


def _variant(event: dict, how: str, value, rnd: random.Random) -> dict:
    event = json.loads(json.dumps(event))
    data = event["data"]
    field = rnd.choice(sorted(data)) if data else None
    if how == "z-millis":
        event["occurred_at"] = _z_millis(event["occurred_at"])
    elif how == "recorded":
        event["recorded_at"] = _z_millis(event["occurred_at"]) if value is None else value
    elif how == "source":
        event["source"] = value
    elif how == "extra":
        event["export_batch"] = value
    elif how == "extra-data":
        data["x_note"] = value
    elif how == "deep":
        nested = value
        for _ in range(rnd.choice([MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 3])):
            nested = {"k": nested} if rnd.random() < 0.5 else [nested]
        event["extra"] = nested
    elif how == "envelope" and value is not None:
        event[rnd.choice(["event_id", "type", "occurred_at", "municipality", "unit", "case_id", "data"])] = value
    elif how == "drop":
        event.pop(rnd.choice(sorted(event)))
    elif how == "data-value" and field is not None:
        data[field] = value
    elif how == "data-drop" and field is not None:
        data.pop(field)
    elif how == "municipality":
        event["municipality"] = value if isinstance(value, str) else "0180"
    return event


_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2 ** 70), 2 ** 70),
    st.sampled_from([2 ** 63 - 1, 2 ** 63, -(2 ** 63), -(2 ** 63) - 1, 2 ** 64 - 1, 2 ** 64, 0.0, -0.0, 1e308,
                     5e-324, 1.0, 0.5, 1, 0, -1, 1.5, 1e15]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12), st.text(alphabet="0123456789-+ :.TZ", max_size=30),
    st.sampled_from(["", "x" * 64, "x" * 65, "bou-1", "BOU", "0138", "2024-02-30T10:00:00+01:00",
                     "2024-03-01T10:00:00", "2024-03-01T10:00:00.1234567+01:00", "2024-03-01T24:00:00Z",
                     "2024-03-01T10:00:60Z", "2024-03-01t10:00:00z", "skola", "sol", "lvu", "hvb", "ingen_resurs",
                     "811218-9876", "19811218 9876", "a\u200b", "\uff10\uff11", "\u00e5"]),
    written_ids(), personal_ids().map(lambda ids: ids[0] + ids[1]),
    personal_ids().map(lambda ids: int(ids[0] + ids[1])), personal_ids().map(lambda ids: int(ids[0] + ids[1]) + 0.5),
    st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2),
)
_HOWS = ["none", "z-millis", "recorded", "source", "extra", "extra-data", "deep", "envelope", "drop",
         "data-value", "data-drop", "municipality"]


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=st.one_of(case_events(), v2_case_events()), how=st.sampled_from(_HOWS), value=_values,
       style=st.sampled_from(STYLES), rnd=st.randoms(use_true_random=False), registry=st.booleans())
def test_the_fast_path_answers_as_validate_line_for_written_and_broken_events(event, how, value, style, rnd, registry):
    event["event_id"] = "e-" + str(rnd.randrange(10 ** 6))
    raw = _write(_variant(event, how, value, rnd), style, rnd)
    _same(raw, REGISTRY if registry else None)
    _same(raw.decode("utf-8", "surrogatepass"))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=st.one_of(case_events(), v2_case_events()), rnd=st.randoms(use_true_random=False),
       edits=st.lists(st.tuples(st.integers(0, 400), st.sampled_from(
           list(b'"{}[],: \t\\0123456789-+.eEZzTtnul') + [0xC3, 0xA5, 0xFF, 0x00, 0x0B]),
           st.sampled_from(["set", "insert", "delete"])), min_size=1, max_size=3))
def test_byte_edits_get_the_same_answer(event, rnd, edits):
    raw = bytearray(_write(event, rnd.choice(STYLES), rnd))
    for at, byte, how in edits:
        at = min(at, len(raw) - 1)
        if how == "set":
            raw[at] = byte
        elif how == "insert":
            raw.insert(at, byte)
        else:
            del raw[at]
    _same(bytes(raw))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=st.one_of(case_events(), v2_case_events()), rnd=st.randoms(use_true_random=False),
       style=st.sampled_from(STYLES))
def test_a_key_written_twice_is_a_duplicate_on_both_paths(event, rnd, style):
    raw = _write(event, style, rnd)
    keys = ["event_id", "type", "occurred_at", "municipality", "unit", "case_id", "data", *event["data"]]
    key = rnd.choice(keys)
    needle = json.dumps(key).encode()
    at = raw.find(needle)
    if at < 0:  # written escaped
        return
    value = rnd.choice([b'"x",', b'"0138",', b'{},', b'1,', json.dumps(event.get(key, "x")).encode() + b","])
    doubled = raw[:at] + needle + b":" + value + raw[at:]
    _same(doubled)
    assert validate_line_fast(doubled).reason in ("duplicate_key", "invalid_json")


@pytest.mark.parametrize("raw", [
    b'{"event_id":"e1","type":"payment.made","occurred_at":"2024-03-01T10:00:00+01:00","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"amount_sek":18446744073709551616}}',
    b'{"event_id":"e1","type":"payment.made","occurred_at":"2024-03-01T10:00:00+01:00","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"amount_sek":-9223372036854775809}}',
    b'{"event_id":"e1","type":"payment.made","occurred_at":"2024-03-01T10:00:00+01:00","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"amount_sek":1e400}}',
    b'{"event_id":"e1","type":"payment.made","occurred_at":"2024-03-01T10:00:00+01:00","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"amount_sek":8112189876.0}}',
    b'{"event_id":"e1","type":"payment.made","occurred_at":"2024-03-01T10:00:00+01:00","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"amount_sek":-0.0}}',
    b'{"event_id":"e1","type":"staff.joined","occurred_at":"2024-03-01T10:00:00.123Z","municipality":"0138",'
    b'"unit":"bou-1","case_id":"s1","data":{"staff_id":"s1","role":"annan","employment":"consultant","fte":0}}',
    b'{"event_id":"e1","type":"staff.left","occurred_at":"2024-03-01T10:00:00Z","municipality":"0138",'
    b'"unit":"bou-1","case_id":"s1","data":{"staff_id":"s2"}}',
    b'{"event_id":"e1","type":"case.transferred","occurred_at":"2024-03-01T10:00:00Z","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"to_unit":"Vux"}}',
    b'{"event_id":"e1","type":"report.received","occurred_at":"2024-03-01T10:00:00Z","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"reporter":"skola","age_band":null}}',
    b'{"event_id":"e1","type":"report.received","occurred_at":"2024-03-01T10:00:00Z","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"reporter":"skola"},"data":{"reporter":"polis"}}',
    b'{"event_id":"e1","type":"report.received","occurred_at":"2024-03-01T10:00:00Z","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"reporter":"skola"}} {}',
    b'{"event_id":"e1","type":"report.received","occurred_at":"2024-03-01T10:00:00Z","municipality":"\xd9\xa1\xd9\xa3'
    b'\xd9\xa3\xd9\xa8","unit":"bou-1","case_id":"c1","data":{"reporter":"skola"}}',
    b'{"event_id":"e1","type":"report.received","occurred_at":"2024-03-01T10:00:00Z","municipality":"0138",'
    b'"unit":"bou-1","case_id":"811218-9876","data":{"reporter":"skola"}}',
    b'{"event_id":"e1","type":"report.received","occurred_at":"2024-03-01T10:00:00Z","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"reporter":"skola"},"recorded_at":null,"source":"x"}',
    b'\xef\xbb\xbf{"event_id":"e1","type":"report.received","occurred_at":"2024-03-01T10:00:00Z","municipality":"0138",'
    b'"unit":"bou-1","case_id":"c1","data":{"reporter":"skola"}}',
])
@pytest.mark.parametrize("registry", [None, REGISTRY])
def test_edge_lines_get_the_same_answer(raw, registry):
    _same(raw, registry)


def _independent_lines(n: int, seed: int) -> list[bytes]:
    path = Path(__file__).resolve().parents[3] / "bench" / "independent_events.py"
    spec = importlib.util.spec_from_file_location("independent_events", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [line.encode() for line in itertools.islice(module.generate(n, seed), n)]


def test_the_independent_generators_lines_get_the_same_answer():
    lines = _independent_lines(6000, 11)
    accepted = 0
    for raw in lines:
        _same(raw)
        accepted += type(validate_line_fast(raw)) is Event
    assert accepted > 5000  # the fast path ran on real lines, not only on rejections


def test_the_simulators_lines_get_the_same_answer():
    from services.simulator import SimulationSpec, simulate

    for raw in itertools.islice(simulate(SimulationSpec(municipalities=1, months=2, seed=5)), 4000):
        _same(raw)
        _same(raw, frozenset())  # every unit unknown


def test_every_event_type_takes_the_fast_path():
    """Not a vacuous equality: each type's valid line is accepted by the compiled decoder itself."""
    from streams.contract import fast_validate

    samples = {t: None for t in CATALOGUE}
    import hypothesis

    @hypothesis.settings(max_examples=300, deadline=None)
    @given(case_events())
    def collect(event):
        if samples[event["type"]] is None:
            event["event_id"] = "e1"
            samples[event["type"]] = orjson.dumps(event)

    # A few rounds: 300 random events can miss one of the 21 types (staff.left did, once).
    for _round in range(5):
        collect()
        if all(raw is not None for raw in samples.values()):
            break
    for type_, raw in samples.items():
        assert raw is not None, type_
        outcome = fast_validate._event(raw, None)  # raises _Plain if it had to go the plain way
        assert outcome == validate_line(raw)
