"""Request bodies into events: one JSON object, a JSON array of objects, or NDJSON.

Each event goes through the contract's validator on its own bytes
(:func:`streams.contract.validate.validate_line_canonical`), so a repeated key or deep nesting
in one array element is that element's rejection. The result is an :class:`Item` per event, in
request order, carrying the bytes to put on Kafka: for an accepted event its canonical form (the
contract's fields only, never the bytes received), for a rejected one the element's bytes, which
the dead-letter writer redacts. Also, for the per-source type check, the catalogue type the event
names, if any. Nothing here raises on input except :class:`TooManyEvents`, before any event is
validated.
"""
from __future__ import annotations

from typing import NamedTuple

import orjson

from streams.contract.catalogue import CATALOGUE
from streams.contract.decode import TooManyElements, split_array
from streams.contract.validate import Event, Rejection, validate_line_canonical

JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
                "application/jsonlines")
# Reasons whose event was a JSON object with a readable `type` worth checking against the source.
_TYPED_REJECTIONS = frozenset({"personal_id_in_payload", "missing_field", "bad_type", "bad_value", "bad_timestamp"})


class UnsupportedMediaType(ValueError):
    pass


class TooManyEvents(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} events in one request")
        self.limit = limit


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


def _type_of(raw: bytes) -> str | None:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is dict:
        value = obj.get("type")
        if type(value) is str and value in CATALOGUE:
            return value
    return None


def _item(raw: bytes, registry=None) -> Item:
    outcome, canonical = validate_line_canonical(raw, registry)
    if type(outcome) is Event:
        return Item(canonical, outcome, outcome.type)
    kind = _type_of(raw) if outcome.reason in _TYPED_REJECTIONS else None
    return Item(raw, outcome, kind)


def split_body(body: bytes, kind: str, max_events: int | None = None) -> list[bytes] | Item:
    """The raw bytes of each event in a body, or one rejected :class:`Item` for a body that is
    not JSON at all; raises :class:`TooManyEvents` past ``max_events``."""
    if kind == "ndjson":
        lines = []
        for line in body.split(b"\n"):
            line = line.strip()
            if line:
                lines.append(line)
                if max_events is not None and len(lines) > max_events:
                    raise TooManyEvents(max_events)
        return lines
    stripped = body.strip()
    if not stripped.startswith(b"["):
        return [stripped]
    try:
        orjson.loads(stripped)
    except orjson.JSONDecodeError:
        # An unreadable array is one rejection (too_deep or invalid_json), not one per element.
        outcome, _ = validate_line_canonical(stripped)
        return Item(stripped, outcome, None)
    try:
        return split_array(stripped, max_events)
    except TooManyElements:
        raise TooManyEvents(max_events) from None


def parse_body(body: bytes, kind: str, max_events: int | None = None) -> list[Item]:
    """The events of a request body (``kind`` from :func:`media_type`), in order.

    JSON: an object is one event, an array is a list of events (each element validated; a
    non-object element is rejected ``bad_type``), anything unparseable is one ``invalid_json``
    (or ``too_deep``) event. NDJSON: one event per non-blank line (``\\n`` or ``\\r\\n``).
    """
    parts = split_body(body, kind, max_events)
    if type(parts) is Item:
        return [parts]
    return [_item(part) for part in parts]
