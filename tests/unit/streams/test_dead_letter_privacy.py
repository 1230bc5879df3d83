"""A dead letter never carries a personal identity number, whatever the line was rejected for
first. CONTRACT.md §1a reads a JSON number as its decimal digits: ``1.98112189876e11`` is
198112189876. A line rejected as ``duplicate_key``, ``too_deep`` or ``invalid_json`` is never
decoded by the personal-id check, and its dead letter used to keep such a number as sent."""
from __future__ import annotations

import re

import orjson
import pytest

from streams.contract.personal_id import contains_personal_id, number_digits, value_has_personal_id
from streams.contract.validate import Rejection, validate_line
from streams.dead_letter import dead_letter_record

# 19811218-9876 (a fake, valid number) written as JSON numbers with exponents
AS_NUMBERS = (b"1.98112189876e11", b"-19811218.9876E4", b"8.112189876e9", b"0.0198112189876e13")
NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
ENVELOPE = (b'"type":"payment.made","occurred_at":"2024-01-10T10:00:00+01:00","municipality":"0138",'
            b'"unit":"eko","case_id":"c","data":{"amount_sek":1}')


def reads_as_personal_id(value: bytes) -> bool:
    """What a person (and the validator) reads in the stored bytes: the text, and every number
    written out; a line that is JSON, also decoded."""
    text = value.decode("utf-8", "replace")
    if contains_personal_id(text):
        return True
    if any(contains_personal_id(number_digits(float(n))) for n in NUMBER.findall(text)):
        return True
    try:
        return value_has_personal_id(orjson.loads(value))
    except orjson.JSONDecodeError:
        return False


def lines(number: bytes) -> dict[str, bytes]:
    return {
        "duplicate_key": b'{"event_id":"e","event_id":"f",' + ENVELOPE + b',"x":' + number + b"}",
        "too_deep": b'{"a":' + b"[" * 20 + number + b"]" * 20 + b"}",
        "invalid_json": b'{"x": ' + number + b", ",
        "personal_id_in_payload": b'{"event_id":"e",' + ENVELOPE + b',"x":' + number + b"}",
    }


@pytest.mark.parametrize("number", AS_NUMBERS)
@pytest.mark.parametrize("reason", ["duplicate_key", "too_deep", "invalid_json", "personal_id_in_payload"])
def test_a_personal_id_written_as_a_number_never_reaches_the_dead_letter(number, reason):
    raw = lines(number)[reason]
    assert reads_as_personal_id(raw)
    outcome = validate_line(raw)
    assert type(outcome) is Rejection and outcome.reason == reason
    letter = dead_letter_record(raw, outcome, source="http:test")
    assert not reads_as_personal_id(letter.value)
    assert dict(letter.headers)["redacted"] == b"1"  # so `casewatch dlq replay` never sends it again


def test_other_numbers_with_exponents_keep_the_dead_letter_as_sent():
    raw = b'{"event_id":"e","event_id":"f",' + ENVELOPE + b',"x":1.5e3,"y":-2E-7,"z":"8e73ab"}'
    outcome = validate_line(raw)
    letter = dead_letter_record(raw, outcome, source="http:test")
    assert (letter.value, dict(letter.headers)["redacted"]) == (raw, b"0")
