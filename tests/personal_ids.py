"""Generated Swedish personal identity numbers in every form a person still reads as one
(CONTRACT.md §1a), and events carrying them anywhere: shared by the unit and path tests."""
from __future__ import annotations

import json

import orjson
from hypothesis import strategies as st

from streams.contract.decode import MAX_DEPTH
from streams.contract.personal_id import DASHES, MINUS_SIGNS, SPACES
from tests.events import ev, line

def _luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


@st.composite
def personal_ids(draw) -> str:
    """The digits of a valid personnummer or samordningsnummer, 10 or 12 long, and its
    separator position: returned as (head, tail)."""
    year = draw(st.integers(1850, 2025))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    if draw(st.booleans()):
        day += 60  # samordningsnummer
    serial = draw(st.integers(0, 999))
    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    ten = nine + _luhn_digit(nine)
    if draw(st.booleans()):
        return f"{year:04d}{ten[2:6]}", ten[6:]
    return ten[:6], ten[6:]


DIGIT_FORMS = {
    "ascii": lambda d: d,
    "fullwidth": lambda d: chr(0xFF10 + int(d)),
    "arabic_indic": lambda d: chr(0x0660 + int(d)),
    "devanagari": lambda d: chr(0x0966 + int(d)),
    "mathematical_bold": lambda d: chr(0x1D7CE + int(d)),
}
INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\ufe0f"]
SEPARATOR_CHOICES = [""] + list("-+") + list(SPACES) + list(DASHES) + list(MINUS_SIGNS)


@st.composite
def written_ids(draw) -> str:
    """A personal id as a person would still read it: any digits, separator, invisibles."""
    head, tail = draw(personal_ids())
    sep = draw(st.sampled_from(SEPARATOR_CHOICES))
    out = []
    for position, digit in enumerate(head + tail):
        if position == len(head):
            out.append(sep)
        out.append(DIGIT_FORMS[draw(st.sampled_from(sorted(DIGIT_FORMS)))](digit))
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(INVISIBLES)))
    return "".join(out)


def _nest(value, depth: int):
    for level in range(depth):
        value = {"n": value} if level % 2 else [value]
    return value


def _encode(event: dict, ascii_only: bool) -> bytes:
    if ascii_only:
        return json.dumps(event, ensure_ascii=True).encode()
    return orjson.dumps(event)



BASE = orjson.loads(line(ev("placement.started", "2024-03-01T10:00:00+01:00", placement_id="p1",
                            placement_type="hvb", daily_cost_sek=4458)))
PLACES = ("case_id", "event_id", "note", "extra", "key", "source", "number")


@st.composite
def events_with_personal_ids(draw) -> bytes:
    """One otherwise valid event line with a personal id somewhere, at some depth, in some form."""
    event = json.loads(json.dumps(BASE))
    event["event_id"] = f"pid-{draw(st.integers(0, 10**9))}"
    where = draw(st.sampled_from(PLACES))
    depth = draw(st.integers(0, MAX_DEPTH - 2))
    text = draw(st.sampled_from(["", "barn ", "x"])) + draw(written_ids()) + draw(st.sampled_from(["", " .", "-a"]))
    if where == "case_id":
        event["case_id"] = text[:64]
    elif where == "event_id":
        event["event_id"] = text[:64]
    elif where == "note":
        event["data"]["note"] = _nest(text, depth)
    elif where == "extra":
        event["extra"] = _nest(text, depth)
    elif where == "key":
        event["extra"] = _nest({text: 1}, depth)
    elif where == "source":
        event["source"] = text
    else:
        head, tail = draw(personal_ids().filter(lambda ids: not ids[0].startswith("0")))
        event["extra"] = _nest(int(head + tail), depth)
    return _encode(event, draw(st.booleans()))
