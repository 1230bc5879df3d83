"""The replay's speed paths give the answers of the plain ones: the packed replay the figures of
:class:`Replay`, the timestamp fast path the generic parse, the decoder's personal-id shortcut
the exact check."""
import orjson
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from streams.contract.decode import decode_event
from streams.contract.personal_id import value_has_personal_id
from streams.contract.validate import Rejection, _parse_generic, _Reject, parse_timestamp
from streams.core.packed_replay import PackedReplay
from streams.core.replay import Replay
from tests.unit.streams.test_input_safety import _pieces, _scalars, written
from tests.unit.streams.test_properties import BASE, SPAN, event_sets


def _both(lines, as_of=None):
    reference, packed = Replay(), PackedReplay()
    reference.add_lines(lines)
    packed.add_lines(lines)
    return reference.result(as_of), packed.result(as_of)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_sets(), st.randoms(use_true_random=False), st.data())
def test_the_packed_replay_gives_replays_figures_in_any_order_with_any_duplicates(events, rnd, data):
    # several municipalities: the packed replay computes them one at a time
    events = [dict(e, municipality=rnd.choice(["0138", "0180", "2480"])) for e in events]
    lines = [orjson.dumps(e) for e in events]
    # re-sends, also with other content under the same event id (the first received is kept)
    for _ in range(rnd.randint(0, len(lines))):
        original = dict(rnd.choice(events))
        if rnd.random() < 0.5:
            original["occurred_at"] = rnd.choice(events)["occurred_at"]
        lines.append(orjson.dumps(original))
    lines += [b"", b"   \n", b"{not json", orjson.dumps({"type": "report.received"})]
    rnd.shuffle(lines)
    as_of = data.draw(st.none() | st.integers(min_value=0, max_value=SPAN + 86400).map(lambda s: float(BASE + s)))
    reference, packed = _both(lines, as_of)
    assert orjson.dumps(packed) == orjson.dumps(reference)


def test_a_newest_instant_seen_only_on_a_duplicate_is_not_the_as_of():
    first = {"event_id": "e1", "type": "report.received", "occurred_at": "2024-03-01T10:00:00+01:00",
             "municipality": "0138", "unit": "bou-1", "case_id": "c1", "data": {"reporter": "skola"}}
    resent = dict(first, occurred_at="2024-03-20T10:00:00+01:00")
    reference, packed = _both([orjson.dumps(first), orjson.dumps(resent)])
    assert packed["as_of"] == "2024-03-01T10:00:00+01:00"
    assert orjson.dumps(packed) == orjson.dumps(reference)


def test_no_event_and_no_as_of_is_the_same_error():
    for replay in (Replay(), PackedReplay()):
        replay.add_lines([b"{}"])
        try:
            replay.result()
        except ValueError as error:
            assert "as_of" in str(error)
        else:
            raise AssertionError("expected a ValueError")


_SHAPES = ["2025-01-01T10:00:00+01:00", "2025-01-01T10:00:00Z", "2025-01-01T10:00:00.123Z",
           "2025-01-01T10:00:00.123456Z", "2025-01-01T10:00:00.123+02:00", "2025-07-01T10:00:00.123456-05:30",
           "2025-01-01T10:00:00.1+01:00", "2025-03-30T02:30:00+01:00", "2025-10-26T02:30:00.000Z"]


def _outcome(parse, value):
    try:
        return parse(value, "occurred_at")
    except _Reject as rejected:
        return rejected.rejection


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(_SHAPES), st.lists(st.tuples(st.integers(0, 40), st.sampled_from(
    list("0123456789-:+TZz.t ") + ["\u0663", "\uff11"]), st.sampled_from(["set", "insert", "delete"])), max_size=3))
def test_the_timestamp_fast_path_reads_what_the_generic_parse_reads(shape, edits):
    value = list(shape)
    for at, char, how in edits:
        at %= len(value) + (how == "insert")
        if how == "set" and at < len(value):
            value[at] = char
        elif how == "insert":
            value.insert(at, char)
        elif value and at < len(value):
            del value[at]
    text = "".join(value)
    assert _outcome(parse_timestamp, text) == _outcome(_parse_generic, text)


_shallow = st.dictionaries(_pieces, _scalars, max_size=5)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelope=_shallow, data=_shallow, style=st.sampled_from(["orjson", "ascii", "spaced", "exponent"]))
def test_the_two_deep_shortcut_finds_every_personal_id_the_exact_check_finds(envelope, data, style):
    raw = written(dict(envelope, data=data), style)
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        assume(False)
    outcome = decode_event(raw)
    if value_has_personal_id(decoded):
        assert outcome in ("personal_id_in_payload", "duplicate_key")
    else:
        assert outcome != "personal_id_in_payload"


def test_uuid_event_ids_with_hex_exponent_lookalikes_are_accepted():
    from streams.contract.validate import validate_line

    line = (b'{"event_id": "e6d690ed-3f0b-4515-8e73-48e65d000a0e", "type": "payment.made", '
            b'"occurred_at": "2025-01-01T18:04:57.422Z", "municipality": "0214", "unit": "eb-1", '
            b'"case_id": "K-2363-407a13bb", "data": {"amount_sek": 1234.5}}')
    event = validate_line(line)
    assert type(event) is not Rejection and event.payload == (1234.5,)


def test_past_the_unit_table_each_event_carries_its_own_unit(monkeypatch):
    import streams.core.packed_replay as packed_replay

    monkeypatch.setattr(packed_replay, "_INLINE_UNIT", 2)  # a table of two units, then inline
    lines = [orjson.dumps({"event_id": f"e{i}", "type": "report.received",
                           "occurred_at": f"2024-03-0{i + 1}T10:00:00+01:00", "municipality": "0138",
                           "unit": f"bou-{i}", "case_id": f"c{i % 2}", "data": {"reporter": "skola"}})
             for i in range(5)]
    reference, packed = _both(lines)
    assert list(packed["units"]["0138"]) == [f"bou-{i}" for i in range(5)]
    assert orjson.dumps(packed) == orjson.dumps(reference)


_UUID_LIKE = st.sampled_from(["7ae75706-ab49-4077-a4b8-00db251fb4cf", "7AE75706-AB49-4077-A4B8-00DB251FB4CF",
                              "7ae75706-ab49-4077-a4b8-00db251fb4c ", "7ae75706 ab49-4077-a4b8-00db251fb4cf-",
                              "+ae75706-ab49-4077-a4b8-00db251fb4cf", "7ae75706-ab49-4077-a4b8-00db251fb4cg"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_sets(), st.randoms(use_true_random=False), st.lists(_UUID_LIKE, min_size=40, max_size=40))
def test_uuid_event_ids_are_packed_and_given_back_exactly(events, rnd, shapes):
    """UUID ids are kept as 16 bytes: the same figures, duplicates told apart by the same ids."""
    for i, e in enumerate(events):
        # a UUID per event (the i-th variant of a shape), some shapes not UUIDs at all
        e["event_id"] = shapes[i][:-4] + f"{i:04x}" if shapes[i][-1] != " " else shapes[i]
    lines = [orjson.dumps(e) for e in events]
    lines += [orjson.dumps(rnd.choice(events)) for _ in range(rnd.randint(0, 5))]  # re-sends
    rnd.shuffle(lines)
    reference, packed = _both(lines)
    assert orjson.dumps(packed) == orjson.dumps(reference)


def test_a_packed_replay_gives_its_result_once():
    from streams.core.packed_replay import PackedReplay as Packed

    replay = Packed()
    replay.add_lines([orjson.dumps({"event_id": "e1", "type": "report.received",
                                    "occurred_at": "2024-03-01T10:00:00+01:00", "municipality": "0138",
                                    "unit": "bou-1", "case_id": "c1", "data": {"reporter": "skola"}})])
    assert replay.result()["events"]["accepted"] == 1
    assert not replay.cases  # the per-case index was released while folding
    for again in (replay.result, lambda: replay.add_lines([b"{}"])):
        try:
            again()
        except RuntimeError:
            pass
        else:
            raise AssertionError("expected a RuntimeError")
