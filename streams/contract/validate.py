"""The contract's validator: one line in, an accepted :class:`Event` or a :class:`Rejection` out.

It never raises on input and never echoes a value from the input: a rejection names a reason
and, where useful, the field (a name from our own catalogue), nothing else. It is on the hot
path of every consumer, so checks are compiled once per field from the catalogue.
"""
from __future__ import annotations

import math
import re
from datetime import datetime
from typing import AbstractSet, Callable, NamedTuple, Sequence, cast


from .catalogue import CATALOGUE, EventSpec, Field
from .canonical import canonical_bytes
from .decode import check_decoded, decode_event

REASONS = (
    "invalid_json",
    "bad_type",
    "missing_field",
    "unknown_type",
    "bad_timestamp",
    "bad_value",
    "personal_id_in_payload",
    "duplicate_key",
    "too_deep",
    "unknown_unit",
)

# Instants a case event can have: every figure is computed on local calendar dates, deadlines
# months ahead, and Python's dates end at years 1 and 9999, so one event dated 0001-01-01 or
# 9999-12-31 (both valid RFC 3339) stopped every KPI of its unit with "year 0 is out of range".
MIN_TS = -2208988800.0  # 1900-01-01T00:00:00Z
MAX_TS = 7258118400.0  # 2200-01-01T00:00:00Z (excluded)
# Money and other numbers: |value| at most this. Two payments of 1e308 made the unit's sum
# overflow (math.fsum raised OverflowError in every KPI computation); a trillion kronor is far
# above any real payment or daily cost and keeps every sum over any history finite.
MAX_ABS_NUMBER = 1e12

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_UNIT = re.compile(r"[a-z0-9-]{1,40}")


class Event(NamedTuple):
    """An accepted event, reduced to what the core folds. ``payload`` holds the type's data
    fields in catalogue order (defaults filled in, timestamps as POSIX seconds)."""

    event_id: str
    type: str
    code: int
    ts: float
    municipality: str
    unit: str
    case_id: str
    payload: tuple


class Rejection(NamedTuple):
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.reason}: {self.field}" if self.field else self.reason


class _Reject(Exception):
    def __init__(self, reason: str, field: str | None = None):
        self.rejection = Rejection(reason, field)


# --- timestamps -----------------------------------------------------------------------------

def _parse_generic(value: str, field: str) -> float:
    m = _RFC3339.fullmatch(value)
    if m is None:
        raise _Reject("bad_timestamp", field)
    text = value
    fraction = m.group(1)
    if fraction and len(fraction) > 7:  # datetime keeps microseconds; finer digits are dropped
        text = text[: m.start(1) + 7] + text[m.end(1):]
    if m.group(2) in ("Z", "z"):
        text = text[: m.start(2)] + "+00:00"
    try:
        ts = datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise _Reject("bad_timestamp", field) from None
    if not MIN_TS <= ts < MAX_TS:
        raise _Reject("bad_timestamp", field)
    return ts


def parse_timestamp(value: object, field: str) -> float:
    """RFC 3339 with an explicit offset, as POSIX seconds."""
    if type(value) is not str:
        raise _Reject("bad_type", field)
    # The common exact shape "YYYY-MM-DDTHH:MM:SS+HH:MM": with every separator in place,
    # fromisoformat (in C) checks the digits and ranges, and nothing else can pass.
    n = len(value)
    if (n in _FAST_LENGTHS and value[10] == "T" and value[4] == "-" and value[7] == "-" and value[13] == ":"
            and value[16] == ":" and _FAST_LENGTHS[n] == (value[n - 1] == "Z")
            and (value[n - 1] == "Z" or value[n - 6] in "+-" and value[n - 3] == ":")
            and (n == 25 or n == 20 or value[19] == ".") and value.isascii()):
        # Also "...SS.fff" / "...SS.ffffff" before the offset, and "Z": the shapes other case
        # systems write. The length pins the fraction to none, 3 or 6 digits, which
        # fromisoformat reads exactly as the generic path below does.
        try:
            ts = datetime.fromisoformat(value).timestamp()
        except ValueError:
            raise _Reject("bad_timestamp", field) from None
        if not MIN_TS <= ts < MAX_TS:
            raise _Reject("bad_timestamp", field)
        return ts
    return _parse_generic(value, field)


# "YYYY-MM-DDTHH:MM:SS" (19) + "" / ".fff" / ".ffffff" + "Z" (1) or "+HH:MM" (6): length -> ends in Z
_FAST_LENGTHS = {20: True, 24: True, 27: True, 25: False, 29: False, 32: False}


def parse_instant(text: str) -> float:
    """An RFC 3339 timestamp with offset as POSIX seconds, for options and configuration."""
    try:
        return parse_timestamp(text, "timestamp")
    except _Reject:
        raise ValueError(f"not an RFC 3339 timestamp with an offset: {text!r}") from None


# --- per-field checks -------------------------------------------------------------------------

Check = Callable[[object, str], object]


def _check_id(value: object, path: str) -> str:
    if type(value) is not str:
        raise _Reject("bad_type", path)
    if not 1 <= len(value) <= 64:
        raise _Reject("bad_value", path)
    return value


def _check_number(value: object, path: str) -> int | float:
    if type(value) is not int and type(value) is not float:  # bool is an int subclass: refused
        raise _Reject("bad_type", path)
    if not math.isfinite(value) or not -MAX_ABS_NUMBER <= value <= MAX_ABS_NUMBER:
        raise _Reject("bad_value", path)
    return value


def _check_nonneg(value: object, path: str) -> int | float:
    number = _check_number(value, path)
    if number < 0:
        raise _Reject("bad_value", path)
    return number


def _check_fte(value: object, path: str) -> int | float:
    number = _check_number(value, path)
    if not 0 < number <= 1:
        raise _Reject("bad_value", path)
    return number


def _check_bool(value: object, path: str) -> bool:
    if type(value) is not bool:
        raise _Reject("bad_type", path)
    return value


def _check_text(value: object, path: str) -> str:
    if type(value) is not str:
        raise _Reject("bad_type", path)
    return value


def _check_unit(value: object, path: str) -> str:
    if type(value) is not str:
        raise _Reject("bad_type", path)
    if _UNIT.fullmatch(value) is None:
        raise _Reject("bad_value", path)
    return value


def _enum_check(choices: tuple[str, ...]) -> Check:
    # Returns the catalogue's own string, so millions of kept events share a handful of objects.
    allowed = {choice: choice for choice in choices}

    def check(value: object, path: str) -> str:
        if type(value) is not str:
            raise _Reject("bad_type", path)
        canonical = allowed.get(value)
        if canonical is None:
            raise _Reject("bad_value", path)
        return canonical

    return check


def _compile(field: Field) -> Check:
    if field.kind == "enum":
        return _enum_check(field.choices)
    return {
        "bool": _check_bool,
        "id": _check_id,
        "number": _check_number,
        "nonneg_number": _check_nonneg,
        "fte": _check_fte,
        "timestamp": parse_timestamp,
        "text": _check_text,
        "unit": _check_unit,
    }[field.kind]


class _CompiledSpec(NamedTuple):
    spec: EventSpec
    # name, path, required, default, check, {choice: choice} for an enum (checked inline)
    fields: tuple[tuple[str, str, bool, object, Check, dict | None], ...]
    is_staff: bool
    unit_fields: tuple[int, ...]  # payload positions naming a unit (to_unit), for the registry


_COMPILED = {
    name: _CompiledSpec(
        spec,
        tuple((f.name, "data." + f.name, f.required, f.default, _compile(f),
               {c: c for c in f.choices} if f.kind == "enum" else None) for f in spec.fields),
        name.startswith("staff."),
        tuple(i for i, f in enumerate(spec.fields) if f.kind == "unit"),
    )
    for name, spec in CATALOGUE.items()
}

_ENVELOPE_REQUIRED = ("event_id", "type", "occurred_at", "municipality", "unit", "case_id", "data")
# Municipality codes and unit names are few and repeat on every line: remember the valid ones
# (and hand out one shared string object per place, as for enums).
_VALID_PLACES: dict[tuple[str, str], tuple[str, str]] = {}


def _check_place(municipality: object, unit: object) -> tuple[str, str]:
    if type(municipality) is not str:
        raise _Reject("bad_type", "municipality")
    if len(municipality) != 4 or not (municipality.isascii() and municipality.isdigit()):
        raise _Reject("bad_value", "municipality")
    if type(unit) is not str:
        raise _Reject("bad_type", "unit")
    if _UNIT.fullmatch(unit) is None:
        raise _Reject("bad_value", "unit")
    place = (municipality, unit)
    if len(_VALID_PLACES) < 100_000:
        _VALID_PLACES[place] = place
    return place


# A unit registry (CONTRACT.md §7): the (municipality, unit) pairs configured. None: no registry,
# every well-formed unit is accepted.
Registry = AbstractSet[tuple[str, str]]


def _check_registry(registry: Registry, municipality: str, unit: str, payload: Sequence, compiled: _CompiledSpec) -> None:
    if (municipality, unit) not in registry:
        raise _Reject("unknown_unit", "unit")
    for i in compiled.unit_fields:
        if (municipality, payload[i]) not in registry:
            raise _Reject("unknown_unit", compiled.fields[i][1])


def _event(obj: dict, registry: Registry | None = None) -> Event:
    try:
        type_ = obj["type"]
        event_id = obj["event_id"]
        case_id = obj["case_id"]
        occurred_at = obj["occurred_at"]
        municipality = obj["municipality"]
        unit = obj["unit"]
        data = obj["data"]
    except KeyError:
        raise _Reject("missing_field", next(n for n in _ENVELOPE_REQUIRED if n not in obj)) from None
    if type(type_) is not str:
        raise _Reject("bad_type", "type")
    compiled = _COMPILED.get(type_)
    if compiled is None:
        raise _Reject("unknown_type", "type")
    # The checks inlined for the common valid value; the check itself names a bad one's reason.
    if type(event_id) is not str or not 0 < len(event_id) <= 64:
        _check_id(event_id, "event_id")
    if type(case_id) is not str or not 0 < len(case_id) <= 64:
        _check_id(case_id, "case_id")
    ts = parse_timestamp(occurred_at, "occurred_at")
    place = _VALID_PLACES.get((municipality, unit)) if type(municipality) is str and type(unit) is str else None
    if place is None:
        place = _check_place(municipality, unit)
    municipality, unit = place
    if "recorded_at" in obj:
        parse_timestamp(obj["recorded_at"], "recorded_at")
    if "source" in obj and type(obj["source"]) is not str:
        raise _Reject("bad_type", "source")
    if type(data) is not dict:
        raise _Reject("bad_type", "data")
    payload = []
    for name, path, required, default, check, choices in compiled.fields:
        value = data.get(name, _MISSING)
        if value is not _MISSING:
            if choices is not None and type(value) is str:  # an enum: its catalogue string
                canonical = choices.get(value)
                payload.append(check(value, path) if canonical is None else canonical)
            else:
                payload.append(check(value, path))
        elif required:
            raise _Reject("missing_field", path)
        else:
            payload.append(default)
    if compiled.is_staff and payload[0] != case_id:
        # The staff id is the Kafka key of staff events, so a join and a leave meet on one partition.
        raise _Reject("bad_value", "data.staff_id")
    if registry is not None:
        _check_registry(registry, municipality, unit, payload, compiled)
    return Event(event_id, type_, compiled.spec.code, ts, municipality, unit, case_id, tuple(payload))


_MISSING = object()


def _rejection(reason: str) -> Rejection:
    return Rejection(reason, "event" if reason == "bad_type" else None)


def _checked(obj: dict, registry: Registry | None = None) -> Event | Rejection:
    try:
        return _event(obj, registry)
    except _Reject as rejected:
        return rejected.rejection


def validate_object(obj: object, registry: Registry | None = None) -> Event | Rejection:
    """Validate an already decoded JSON value; ``registry`` as for :func:`validate_line` (a
    repeated key can no longer be seen in it: prefer :func:`validate_line` on the bytes)."""
    reason = check_decoded(obj)
    if reason is not None:
        return _rejection(reason)
    return _checked(cast(dict, obj), registry)


def validate_line(line: bytes | str, registry: Registry | None = None) -> Event | Rejection:
    """Validate one JSONL line (bytes or str; surrounding whitespace is ignored). With a unit
    ``registry`` (a set of (municipality, unit) pairs) an event naming another pair in ``unit``
    or ``to_unit`` is rejected as ``unknown_unit``."""
    obj = decode_event(line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line)
    if isinstance(obj, str):
        return _rejection(obj)
    try:
        return _event(obj, registry)
    except _Reject as rejected:
        return rejected.rejection


def validate_line_canonical(line: bytes | str,
                            registry: Registry | None = None) -> tuple[Event | Rejection, bytes | None]:
    """Validate one line and, when accepted, give the bytes to pass on: the event re-serialised
    with the contract's fields only (:func:`streams.contract.canonical.canonical_bytes`)."""
    obj = decode_event(line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line)
    if isinstance(obj, str):
        return _rejection(obj), None
    outcome = _checked(obj, registry)
    if type(outcome) is Event:
        return outcome, canonical_bytes(obj, outcome.type)
    return outcome, None
