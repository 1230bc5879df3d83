"""What casewatch passes on: a validated event re-serialised with the contract's fields only.

Never the bytes received (CONTRACT.md §1a): extra envelope fields and data fields the catalogue
does not name for the event's type are dropped, so nothing a source adds beyond the contract
reaches Kafka, Redis or a file. Values are the validated ones, in a fixed key order, so two
spellings of the same event (whitespace, escapes, key order) become the same bytes.
"""
from __future__ import annotations

import orjson

from .catalogue import CATALOGUE

ENVELOPE = ("event_id", "type", "occurred_at", "municipality", "unit", "case_id")
OPTIONAL_ENVELOPE = ("recorded_at", "source")

_DATA_FIELDS = {name: tuple(field.name for field in spec.fields) for name, spec in CATALOGUE.items()}


def canonical_event(obj: dict, type_: str) -> dict:
    """The contract's fields of an accepted event ``obj`` whose type is ``type_``."""
    event = {name: obj[name] for name in ENVELOPE}
    data = obj["data"]
    event["data"] = {name: data[name] for name in _DATA_FIELDS[type_] if name in data}
    for name in OPTIONAL_ENVELOPE:
        if name in obj:
            event[name] = obj[name]
    return event


def canonical_bytes(obj: dict, type_: str) -> bytes:
    return orjson.dumps(canonical_event(obj, type_))
