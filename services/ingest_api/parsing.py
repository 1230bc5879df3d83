"""Request bodies into events: one JSON object, a JSON array of objects, or NDJSON.

Each event goes through the contract's validator (:mod:`streams.contract.validate`); the result
is an :class:`Item` per event, in request order, carrying the bytes to put on Kafka (or on the
dead-letter topic, redacted there) and, for the per-source type check, the catalogue type the
event names, if any. Nothing here raises on input.
"""
from __future__ import annotations

from typing import NamedTuple

import orjson

from streams.contract.catalogue import CATALOGUE
from streams.contract.validate import Event, Rejection, validate_line, validate_object

JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
                "application/jsonlines")
# Reasons whose event was a JSON object with a readable `type` worth checking against the source.
_TYPED_REJECTIONS = frozenset({"personal_id_in_payload", "missing_field", "bad_type", "bad_value", "bad_timestamp"})


class UnsupportedMediaType(ValueError):
    pass


class Item(NamedTuple):
    raw: bytes
    outcome: Event | Rejection
    type: str | None  # a catalogue type the event names (also when rejected), else None


def media_type(content_type: str | None) -> str:
    """``json`` or ``ndjson``; a missing Content-Type is read as JSON."""
    if not content_type:
        return "json"
    base = content_type.split(";", 1)[0].strip().lower()
    if base in JSON_TYPES or (base.startswith("application/") and base.endswith("+json")):
        return "json"
    if base in NDJSON_TYPES:
        return "ndjson"
    raise UnsupportedMediaType(base)


def _type_of(obj: object) -> str | None:
    if type(obj) is dict:
        value = obj.get("type")
        if type(value) is str and value in CATALOGUE:
            return value
    return None


def _from_object(obj: object) -> Item:
    outcome = validate_object(obj)
    if type(outcome) is Event:
        kind = outcome.type
    else:
        kind = _type_of(obj)
    try:
        raw = orjson.dumps(obj)
    except (TypeError, orjson.JSONEncodeError):  # pragma: no cover - decoded JSON re-encodes
        return Item(b"", Rejection("invalid_json"), None)
    return Item(raw, outcome, kind)


def _from_line(line: bytes) -> Item:
    outcome = validate_line(line)
    if type(outcome) is Event:
        return Item(line, outcome, outcome.type)
    kind = None
    if outcome.reason in _TYPED_REJECTIONS:
        try:
            kind = _type_of(orjson.loads(line))
        except orjson.JSONDecodeError:
            kind = None
    return Item(line, outcome, kind)


def parse_body(body: bytes, kind: str) -> list[Item]:
    """The events of a request body (``kind`` from :func:`media_type`), in order.

    JSON: an object is one event, an array is a list of events (each element validated; a
    non-object element is rejected ``bad_type``), anything unparseable is one ``invalid_json``
    event. NDJSON: one event per non-blank line (``\\n`` or ``\\r\\n``).
    """
    if kind == "ndjson":
        items = []
        for line in body.split(b"\n"):
            line = line.strip()
            if line:
                items.append(_from_line(line))
        return items
    stripped = body.strip()
    try:
        decoded = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return [Item(stripped, Rejection("invalid_json"), None)]
    if type(decoded) is list:
        return [_from_object(element) for element in decoded]
    if type(decoded) is dict:
        outcome = validate_line(stripped)
        kind_ = outcome.type if type(outcome) is Event else _type_of(decoded)
        return [Item(stripped, outcome, kind_)]
    return [Item(stripped, Rejection("bad_type", "event"), None)]
