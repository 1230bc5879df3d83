"""The validator's fast path: a compiled, typed decode for the common event, the plain
:func:`~streams.contract.validate.validate_line` for everything else.

:func:`validate_line_fast` gives exactly what :func:`validate_line` gives for every input (a
differential property test holds it): the same :class:`Event`, or the same :class:`Rejection`.
It is built so that this cannot depend on the fast path's own judgement of bad input:

- msgspec decodes the line into one typed struct per event type (a union tagged by ``type``),
  with the contract's types: enums as literals, ids of 1-64 characters, booleans, numbers, no
  unknown field in the envelope or in ``data``, no ``null`` where the contract has none.
- Every check that struct types cannot express is made after it, in Python, for the few fields
  concerned: timestamps, municipality and unit, numbers' ranges and JSON's 64-bit integers,
  the staff id, the unit registry, and the three line-level rules of CONTRACT.md §1a (below).
- Whenever anything fails, or cannot be proved cheaply, the line goes to :func:`validate_line`,
  which names the reason. The fast path never rejects on its own, so every rejection, and its
  reason, is the plain validator's; and it accepts only what the plain validator accepts.

The line-level rules, each proved for an accepted struct without building a dict:

- depth: all fields are scalars, so a decoded line is exactly two objects deep;
- duplicate keys: no unknown field is allowed, so every key written is a field of the structs.
  With only two objects in the line (``count(b"{") == 2``) and whitespace deleted, every key ends
  in ``":``, so that count is at least the number of pairs written, which is at least the fields
  present; when it equals the fields present, no key was written twice (the argument of
  :mod:`streams.contract.decode`);
- personal identity numbers: the byte pre-filter of :mod:`streams.contract.personal_id` answers
  for strings, keys and integers of a pure-ASCII line without escapes (any other line goes the
  plain way); the line's floats, all of them in number fields, are checked exactly one by one.
"""
from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import UNSET, Meta, UnsetType
from msgspec.structs import astuple

from .catalogue import CATALOGUE, EventSpec, Field
from .personal_id import float_has_personal_id, text_may_contain_personal_id
from .validate import (
    MAX_ABS_NUMBER, _UNIT, _VALID_PLACES, Event, Registry, Rejection, _check_place, _check_registry, _COMPILED, _Reject,
    parse_timestamp, validate_line,
)

__all__ = ["validate_line_fast"]

_Id = Annotated[str, Meta(min_length=1, max_length=64)]
# orjson (the plain path's decoder) reads integers outside these bounds as floats, msgspec as ints
_INT_MIN, _INT_END = -(2 ** 63), 2 ** 64
_NUMBER_KINDS = ("number", "nonneg_number", "fte")


def _field_type(field: Field) -> object:
    if field.kind == "enum":
        return Literal.__getitem__(field.choices)
    if field.kind == "bool":
        return bool
    if field.kind == "id":
        return _Id
    if field.kind in _NUMBER_KINDS:
        return Union[int, float]  # bool is refused: msgspec keeps JSON's true apart from 1
    return str  # text, timestamp and unit: checked after decoding


def _structs(spec: EventSpec) -> type:
    """The envelope struct of one event type, its ``data`` struct inside."""
    data = msgspec.defstruct(
        "Data_" + spec.type.replace(".", "_"),
        [(f.name, _field_type(f)) if f.required else (f.name, Union[_field_type(f), UnsetType], UNSET)
         for f in spec.fields],
        forbid_unknown_fields=True,
    )
    return msgspec.defstruct(
        "Event_" + spec.type.replace(".", "_"),
        [("event_id", _Id), ("occurred_at", str), ("municipality", str), ("unit", str), ("case_id", _Id),
         ("data", data), ("recorded_at", Union[str, UnsetType], UNSET), ("source", Union[str, UnsetType], UNSET)],
        tag_field="type", tag=spec.type, forbid_unknown_fields=True,
    )


class _Plan:
    """What remains to check after decoding, per event type (positions in ``data``)."""

    __slots__ = ("type", "code", "keys", "optional", "numbers", "timestamps", "units", "is_staff", "compiled")

    def __init__(self, spec: EventSpec) -> None:
        self.type = spec.type
        self.code = spec.code
        self.keys = 7 + sum(f.required for f in spec.fields)  # envelope (type included) + required data
        self.optional = tuple((i, f.default) for i, f in enumerate(spec.fields) if not f.required)
        self.numbers = tuple((i, f.kind) for i, f in enumerate(spec.fields) if f.kind in _NUMBER_KINDS)
        self.timestamps = tuple((i, "data." + f.name) for i, f in enumerate(spec.fields) if f.kind == "timestamp")
        self.units = tuple(i for i, f in enumerate(spec.fields) if f.kind == "unit")
        self.is_staff = spec.type.startswith("staff.")
        self.compiled = _COMPILED[spec.type]


_PLANS: dict[type, _Plan] = {_structs(spec): _Plan(spec) for spec in CATALOGUE.values()}
_decode = msgspec.json.Decoder(Union[tuple(_PLANS)]).decode


_new_event = tuple.__new__  # Event(...) without the named tuple's Python-level __new__


class _Plain(Exception):
    """The line needs the plain validator."""


def _number_ok(value: int | float, kind: str) -> bool:
    if type(value) is int:
        if not _INT_MIN <= value < _INT_END:
            return False
    elif not math.isfinite(value) or float_has_personal_id(value):
        return False
    if not -MAX_ABS_NUMBER <= value <= MAX_ABS_NUMBER:
        return False
    if kind == "nonneg_number":
        return value >= 0
    if kind == "fte":
        return 0 < value <= 1
    return True


def _event(line: bytes, registry: Registry | None) -> Event:
    try:
        envelope = _decode(line)
    except Exception:  # msgspec's DecodeError or ValidationError, UnicodeDecodeError: any reason at all
        raise _Plain from None
    plan = _PLANS[type(envelope)]
    if text_may_contain_personal_id(line):
        raise _Plain
    payload: Any = astuple(envelope.data)  # a tuple, or a list once a field is filled in
    keys = plan.keys
    recorded_at = envelope.recorded_at
    if recorded_at is not UNSET:
        keys += 1
    if envelope.source is not UNSET:
        keys += 1
    if plan.optional:
        payload = list(payload)
        for i, default in plan.optional:
            if payload[i] is UNSET:
                payload[i] = default
            else:
                keys += 1
    if line.count(b"{") != 2 or line.translate(None, b" \t\n\r").count(b'":') != keys:
        raise _Plain
    for i, kind in plan.numbers:
        value = payload[i]
        if value is not None and not _number_ok(value, kind):
            raise _Plain
    ts = parse_timestamp(envelope.occurred_at, "occurred_at")
    if recorded_at is not UNSET:
        parse_timestamp(recorded_at, "recorded_at")
    municipality, unit = envelope.municipality, envelope.unit
    place = _VALID_PLACES.get((municipality, unit))
    if place is None:
        place = _check_place(municipality, unit)
    municipality, unit = place
    if plan.timestamps:
        payload = list(payload)
        for i, path in plan.timestamps:
            payload[i] = parse_timestamp(payload[i], path)
    for i in plan.units:
        if _UNIT.fullmatch(payload[i]) is None:
            raise _Plain
    case_id = envelope.case_id
    if plan.is_staff and payload[0] != case_id:
        raise _Plain
    if registry is not None:
        _check_registry(registry, municipality, unit, payload, plan.compiled)
    return _new_event(Event, (envelope.event_id, plan.type, plan.code, ts, municipality, unit, case_id,
                              tuple(payload)))


def validate_line_fast(line: bytes | str, registry: Registry | None = None) -> Event | Rejection:
    """:func:`validate_line`, the same answer for every line, faster for the common event.
    For every consumer of lines: the replay, the worker, the importers."""
    raw = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
    try:
        return _event(raw, registry)
    except (_Plain, _Reject):
        return validate_line(raw, registry)
