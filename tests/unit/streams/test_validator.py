"""Every rejection reason, the accepted shape, and that no value is ever echoed."""
import orjson
import pytest

from streams.contract.personal_id import contains_personal_id, redact
from streams.contract.validate import Event, Rejection, validate_line, validate_object
from tests.events import ev, line

GOOD = ev("placement.started", "2024-03-01T10:00:00+01:00", placement_id="p1",
          placement_type="hvb", daily_cost_sek=4458)
# A fake but valid personnummer (date 1981-12-18, Luhn digit correct) and a samordningsnummer.
PNR = "811218-9876"
SAMORDNING = "701063-2391"


def with_(**changes) -> bytes:
    event = orjson.loads(line(GOOD))
    for key, value in changes.items():
        if value is ...:
            event.pop(key)
        else:
            event[key] = value
    return orjson.dumps(event)


def with_data(**changes) -> bytes:
    event = orjson.loads(line(GOOD))
    for key, value in changes.items():
        if value is ...:
            event["data"].pop(key)
        else:
            event["data"][key] = value
    return orjson.dumps(event)


def test_a_valid_event_is_accepted_with_its_payload_in_catalogue_order():
    out = validate_line(line(GOOD))
    assert isinstance(out, Event)
    assert out.payload == ("p1", "hvb", 4458, None)
    assert out.ts == 1709283600.0


def test_unknown_extra_fields_are_ignored():
    assert isinstance(validate_line(with_(extra={"x": 1}, source="treserva-export")), Event)


@pytest.mark.parametrize("raw, reason, field", [
    (b"{not json", "invalid_json", None),
    (b"", "invalid_json", None),
    (b"\xff\xfe", "invalid_json", None),
    (b"[1,2]", "bad_type", "event"),
    (b"42", "bad_type", "event"),
    (with_(event_id=...), "missing_field", "event_id"),
    (with_(data=...), "missing_field", "data"),
    (with_data(placement_type=...), "missing_field", "data.placement_type"),
    (with_(type="report.lost"), "unknown_type", "type"),
    (with_(type=7), "bad_type", "type"),
    (with_(event_id=""), "bad_value", "event_id"),
    (with_(event_id="x" * 65), "bad_value", "event_id"),
    (with_(case_id=12), "bad_type", "case_id"),
    (with_(occurred_at="2024-03-01T10:00:00"), "bad_timestamp", "occurred_at"),  # no offset
    (with_(occurred_at="2024-02-30T10:00:00+01:00"), "bad_timestamp", "occurred_at"),
    (with_(occurred_at="2024-03-01T25:00:00+01:00"), "bad_timestamp", "occurred_at"),
    (with_(occurred_at="yesterday"), "bad_timestamp", "occurred_at"),
    (with_(occurred_at="２０２４-03-01T10:00:00+01:00"), "bad_timestamp", "occurred_at"),  # non-ASCII digits
    (with_(occurred_at="2024-03-01T10:00:00+01:0a"), "bad_timestamp", "occurred_at"),
    (with_(occurred_at="2024-03-01T10:00:00+25:00"), "bad_timestamp", "occurred_at"),
    (with_(occurred_at="2024-03-01T23:59:60+01:00"), "bad_timestamp", "occurred_at"),
    (with_(occurred_at=1709283600), "bad_type", "occurred_at"),
    (with_(recorded_at="2024-03-01"), "bad_timestamp", "recorded_at"),
    (with_(municipality="138"), "bad_value", "municipality"),
    (with_(municipality="01a8"), "bad_value", "municipality"),
    (with_(unit="BoU 1"), "bad_value", "unit"),
    (with_(unit="x" * 41), "bad_value", "unit"),
    (with_(data=[]), "bad_type", "data"),
    (with_(source=3), "bad_type", "source"),
    (with_data(placement_type="castle"), "bad_value", "data.placement_type"),
    (with_data(daily_cost_sek=-1), "bad_value", "data.daily_cost_sek"),
    (with_data(daily_cost_sek="4458"), "bad_type", "data.daily_cost_sek"),
    (with_data(daily_cost_sek=True), "bad_type", "data.daily_cost_sek"),
])
def test_every_rejection_reason(raw, reason, field):
    out = validate_line(raw)
    assert out == Rejection(reason, field)


@pytest.mark.parametrize("event, reason, field", [
    (ev("staff.joined", "2024-01-01T08:00:00+01:00", case="s1", staff_id="s1", role="socialsekreterare",
        employment="permanent", fte=1.5), "bad_value", "data.fte"),
    (ev("staff.joined", "2024-01-01T08:00:00+01:00", case="s1", staff_id="s1", role="socialsekreterare",
        employment="permanent", fte=0), "bad_value", "data.fte"),
    (ev("staff.joined", "2024-01-01T08:00:00+01:00", case="s2", staff_id="s1", role="socialsekreterare",
        employment="permanent"), "bad_value", "data.staff_id"),
    (ev("report.protection_assessed", "2024-01-01T08:00:00+01:00", immediate_protection="yes"),
     "bad_type", "data.immediate_protection"),
    (ev("investigation.extended", "2024-01-01T08:00:00+01:00", new_due="2024-06-01"),
     "bad_timestamp", "data.new_due"),
])
def test_type_specific_rules(event, reason, field):
    assert validate_line(line(event)) == Rejection(reason, field)


def test_fte_defaults_to_one():
    out = validate_line(line(ev("staff.joined", "2024-01-01T08:00:00+01:00", case="s1", staff_id="s1",
                                role="socialsekreterare", employment="permanent")))
    assert out.payload == ("s1", "socialsekreterare", "permanent", 1.0, None)


@pytest.mark.parametrize("where", ["case_id", "data", "extra", "key", "escaped", "twelve", "samordning"])
def test_personal_ids_are_rejected_and_never_echoed(where):
    event = orjson.loads(line(GOOD))
    if where == "case_id":
        event["case_id"] = PNR
    elif where == "data":
        event["data"]["note"] = f"barnet {PNR} placerat"
    elif where == "extra":
        event["comment"] = {"nested": ["x", PNR.replace("-", "")]}
    elif where == "key":
        event["data"][PNR] = 1
    elif where == "twelve":
        event["source"] = "19" + PNR
    elif where == "samordning":
        event["source"] = SAMORDNING
    raw = orjson.dumps(event)
    if where == "escaped":  # a digit written as \u0038 must not slip past the raw pre-filter
        raw = raw.replace(b'"c1"', b'"' + PNR.replace("8", "\\u0038", 1).encode() + b'"')
        event = orjson.loads(raw)
    out = validate_line(raw)
    assert out == Rejection("personal_id_in_payload", None)
    assert "9876" not in str(out) and "9876" not in repr(out)
    assert validate_object(event) == Rejection("personal_id_in_payload", None)


@pytest.mark.parametrize("text", [
    "811218-9875",      # Luhn digit wrong
    "811318-9876",      # month 13
    "8112189876123",    # 13 digits: not a personnummer shape
    "case 123456-7890",  # no valid date
    "21811218-9876",    # 12-digit form must start with 18, 19 or 20
    "0138-bou-000123",
])
def test_plain_numbers_that_fail_date_or_luhn_are_fine(text):
    assert not contains_personal_id(text)
    assert isinstance(validate_line(with_(case_id=text)), Event)


def test_redact_masks_only_personal_ids():
    assert redact(f"a {PNR} b 123456-7890") == "a [personnummer] b 123456-7890"


@pytest.mark.parametrize("raw, may", [
    (b'{"a":"e-1234567"}', False),
    (b'{"a":"811218-9876"}', True),
    (b'{"a":"8112189876"}', True),
    (b'{"a":"198112189876"}', True),
    (b'{"a":"19811218+9876"}', True),
    (b'{"a":"81121898765"}', False),      # 11 digits
    (b'{"a":"811218-98765"}', False),     # 5 after the dash
    (b'{"a":"1234567-1234"}', False),     # 7 before the dash
    (b'{"a":"x811218-9876"}', True),
    (b'{"a":"\\u0038"}', True),           # escapes always take the exact path
    (b'{"a":"e-123456","b":"8112189876"}', True),
])
def test_raw_prefilter_never_misses_a_candidate(raw, may):
    from streams.contract.personal_id import may_contain_personal_id

    assert may_contain_personal_id(raw) is may
