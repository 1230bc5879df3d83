"""CONTRACT.md §1a at the contract level: personal ids in every form a person reads, duplicate
keys, nesting, the fast pre-filter's soundness, and the canonical re-serialisation."""
import json
import unicodedata

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from streams.contract.canonical import canonical_bytes
from streams.contract.decode import MAX_DEPTH, TooManyElements, decode_event, depth_of, split_array
from streams.contract.personal_id import (
    DASHES, MINUS_SIGNS, SPACES, _INVISIBLE, contains_personal_id, may_contain_personal_id, readable, redact,
    value_has_personal_id,
)
from streams.contract.validate import Event, Rejection, validate_line, validate_line_canonical, validate_object
from tests.events import ev, line
from tests.personal_ids import _encode, _nest, personal_ids, written_ids

GOOD = orjson.loads(line(ev("placement.started", "2024-03-01T10:00:00+01:00", placement_id="p1",
                            placement_type="hvb", daily_cost_sek=4458)))
PID = Rejection("personal_id_in_payload", None)


# --- generated personal identity numbers in every form (tests/personal_ids.py) --------------------

@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written=written_ids(), where=st.sampled_from(["case_id", "note", "extra", "key", "source"]),
       depth=st.integers(0, MAX_DEPTH - 2), ascii_only=st.booleans(),
       before=st.sampled_from(["", "barn ", "x"]), after=st.sampled_from(["", " placerad", "."]))
def test_a_personal_id_in_any_written_form_anywhere_is_rejected(written, where, depth, ascii_only, before, after):
    event = json.loads(json.dumps(GOOD))
    text = before + written + after
    if where == "case_id":
        event["case_id"] = text
    elif where == "note":
        event["data"]["note"] = _nest(text, min(depth, MAX_DEPTH - 2))
    elif where == "extra":
        event["extra"] = _nest(text, depth)
    elif where == "key":
        event["extra"] = _nest({text: 1}, min(depth, MAX_DEPTH - 2))
    else:
        event["source"] = text
    raw = _encode(event, ascii_only)
    out = validate_line(raw)
    assert out == PID
    assert validate_object(orjson.loads(raw)) == PID
    assert not any(ch.isdigit() for ch in str(out))
    assert validate_line_canonical(raw) == (PID, None)


@settings(max_examples=200, deadline=None)
@given(ids=personal_ids(), depth=st.integers(0, MAX_DEPTH - 1), negative=st.booleans())
def test_a_personal_id_written_as_a_json_number_is_rejected(ids, depth, negative):
    head, tail = ids
    assume(not head.startswith("0"))  # a JSON number has no leading zero: that is another number
    number = int(head + tail) * (-1 if negative else 1)
    event = json.loads(json.dumps(GOOD))
    event["extra"] = _nest(number, depth)
    raw = orjson.dumps(event)
    assert validate_line(raw) == PID
    # The same number as a float, with an exponent: still its digits.
    mantissa = f"{head[0]}.{head[1:]}{tail}e{len(head + tail) - 1}"
    assert validate_line(raw.replace(str(number).encode(), (("-" if negative else "") + mantissa).encode())) == PID


@pytest.mark.parametrize("text", [
    "811218 9876", "811218\u00a09876", "811218\u20139876", "811218\u22129876", "8112\u200b18-9876",
    "81\u00ad1218-9876", "\uff18\uff11\uff11\uff12\uff11\uff18-\uff19\uff18\uff17\uff16", "١٩٨١١٢١٨٩٨٧٦",
    "811218\u202f9876", "19811218\u20109876",
])
def test_forms_from_the_issue_are_personal_ids(text):
    assert contains_personal_id(text)
    assert redact(f"a {text} b") == "a [personnummer] b"


@pytest.mark.parametrize("text", ["811218  9876", "811218-9875", "81121898760", "8112189876\u00b9"])
def test_near_misses_are_not(text):
    assert not contains_personal_id(text)


def test_the_separator_and_invisible_sets_are_complete_for_this_unicode_version():
    every = [chr(c) for c in range(0x110000)]
    assert {ch for ch in every if unicodedata.category(ch) == "Zs"} == set(SPACES)
    assert {ch for ch in every if unicodedata.category(ch) == "Pd"} <= set(DASHES)
    assert {ch for ch in every if unicodedata.category(ch) == "Cf"} <= {ch for ch in every if _INVISIBLE.match(ch)}


# --- the pre-filter never misses what the full check finds ---------------------------------------

_pieces = st.one_of(
    written_ids(),
    personal_ids().map(lambda ids: ids[0] + ids[1]),
    st.text(alphabet="0123456789-+ .e\u00a0\u2013\u200b\uff10\uff11\uff18", max_size=16),
    st.text(max_size=8),
)
_scalars = st.one_of(
    st.none(), st.booleans(), _pieces,
    st.integers(-(10 ** 13), 10 ** 13),
    personal_ids().map(lambda ids: int(ids[0] + ids[1])),
    st.floats(allow_nan=False, allow_infinity=False),
    personal_ids().map(lambda ids: int(ids[0] + ids[1]) + 0.5),
    personal_ids().map(lambda ids: int(ids[0] + ids[1]) / 10 ** 9),
)
_documents = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_pieces, inner, max_size=4)), max_leaves=12)


def written(document: object, style: str) -> bytes:
    """``document`` as JSON bytes the way one kind of writer writes it."""
    if style == "orjson":
        return orjson.dumps(document)
    if style == "ascii":
        return json.dumps(document, ensure_ascii=True).encode()
    if style == "spaced":
        return json.dumps(document, ensure_ascii=False, indent=1).encode()
    return json.dumps(document, ensure_ascii=True).replace(".5", "5e-1").encode()  # exponents by hand


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_documents, style=st.sampled_from(["orjson", "ascii", "spaced", "exponent"]))
def test_the_pre_filter_never_misses_what_the_full_check_finds(document, style):
    raw = written(document, style)
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        assume(False)
    if value_has_personal_id(decoded):
        assert may_contain_personal_id(raw)


# --- duplicate keys and depth --------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    b'{"event_id":"e1","case_id":"811218-9876","case_id":"c1"}',
    b'{"a":1, "a" :2}',
    b'{"data":{"x":1,"x":1}}',
    b'{"a":[{"k":1},{"k":2,"k":3}]}',
    b'{"case\\u005fid":"a","case_id":"b"}',
    b'{"a":"{","a":"}"}',
])
def test_a_repeated_key_at_any_depth_is_rejected(raw):
    assert decode_event(raw) == "duplicate_key"


def test_the_duplicated_case_id_from_the_issue_is_rejected_and_no_bytes_pass():
    event = dict(GOOD)
    raw = orjson.dumps(event).replace(b'"case_id":"c1"', b'"case_id":"811218-9876","case_id":"c1"')
    assert validate_line(raw) == Rejection("duplicate_key", None)
    assert validate_line_canonical(raw) == (Rejection("duplicate_key", None), None)


@settings(max_examples=300, deadline=None)
@given(document=st.recursive(st.integers(0, 9) | st.text(alphabet='ab":{}[] ,\\', max_size=4),
                             lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                 st.text(alphabet='ab":', max_size=2), inner, max_size=3), max_leaves=10),
       spaced=st.booleans())
def test_the_duplicate_key_fast_path_agrees_with_a_strict_parse(document, spaced):
    event = {"data": document} if not isinstance(document, dict) else {**document}
    raw = json.dumps(event, indent=1 if spaced else None, ensure_ascii=False).encode()
    assume(depth_of(event) <= MAX_DEPTH)
    # json.dumps never repeats a key; splice one in by hand half the time.
    assert decode_event(raw) != "duplicate_key"
    if raw.startswith(b'{"') and len(event) > 0:
        first = json.dumps(next(iter(event)), ensure_ascii=False).encode() + b":"
        doubled = b"{" + first + b"0," + raw[1:]
        assert decode_event(doubled) == "duplicate_key"


def test_sixteen_levels_pass_and_seventeen_are_too_deep():
    event = json.loads(json.dumps(GOOD))
    event["extra"] = _nest(1, MAX_DEPTH - 1)
    assert isinstance(validate_line(orjson.dumps(event)), Event)
    event["extra"] = _nest(1, MAX_DEPTH)
    assert validate_line(orjson.dumps(event)) == Rejection("too_deep", None)
    assert validate_object(event) == Rejection("too_deep", None)


@pytest.mark.parametrize("depth", [400, 1023, 1024, 1025, 100_000])
def test_deep_nesting_is_a_clean_rejection_never_a_recursion_error(depth):
    raw = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    assert validate_line(raw) == Rejection("too_deep", None)
    mixed = b'{"a":' + b'{"b":' * depth + b"1" + b"}" * depth + b"}"
    assert validate_line(mixed) == Rejection("too_deep", None)


def test_a_ten_megabyte_line_is_a_clean_rejection():
    huge = orjson.dumps({**GOOD, "data": {"note": "x" * 10_000_000}})
    assert isinstance(validate_line(huge), (Event, Rejection))
    assert validate_line(b"[" * 10_000_000) == Rejection("too_deep", None)
    assert validate_line(b"{" * 10_000_000) in (Rejection("too_deep", None), Rejection("invalid_json", None))


# --- only the validated event is passed on -------------------------------------------------------

def test_canonical_bytes_keep_the_contracts_fields_only():
    event = json.loads(json.dumps(GOOD))
    event["extra"] = {"anything": "goes"}
    event["data"]["note"] = "not a field of placement.started"
    event["source"] = "treserva"
    spaced = json.dumps(event, indent=2).encode()
    outcome, canonical = validate_line_canonical(spaced)
    assert isinstance(outcome, Event)
    assert orjson.loads(canonical) == {
        "event_id": GOOD["event_id"], "type": "placement.started", "occurred_at": GOOD["occurred_at"],
        "municipality": GOOD["municipality"], "unit": GOOD["unit"], "case_id": GOOD["case_id"],
        "data": {"placement_id": "p1", "placement_type": "hvb", "daily_cost_sek": 4458}, "source": "treserva"}
    assert validate_line(canonical) == outcome
    assert canonical == canonical_bytes(orjson.loads(canonical), "placement.started")


# --- array bodies --------------------------------------------------------------------------------

def test_split_array_gives_each_elements_bytes():
    raw = b' [ {"a":"x,]"} , [1,[2]] ,3,"s\\"]" ] '
    assert split_array(raw) == [b'{"a":"x,]"}', b"[1,[2]]", b"3", b'"s\\"]"']
    assert split_array(b"[]") == []
    with pytest.raises(TooManyElements):
        split_array(b"[" + b"0," * 10 + b"0]", limit=5)


def test_readable_decodes_escapes_and_unicode_digits():
    assert readable("\\u0038\\uff11\u200b2") == "812"
    assert readable("plain 123") == "plain 123"
