"""The parsing front of the validator: bytes in, one JSON object or a rejection reason out.

Before any field is looked at, a line must be one JSON object in which no object repeats a key
(``duplicate_key``: two readers must never see two different events in the same bytes), nesting
is at most :data:`MAX_DEPTH` levels (``too_deep``), and no string, key or number holds a personal
identity number (``personal_id_in_payload``, CONTRACT.md §1a).

Nothing here recurses on the input, so no input can raise ``RecursionError``: orjson stops by
itself at 1024 levels, depth is measured with an explicit stack, and the duplicate-key parse
(Python's ``json`` with a pairs hook) only runs once depth is known to be at most 16.

Speed matters (every consumer decodes every line), so the common event takes a fast path.
Each shortcut is sound, not heuristic:

- depth: an envelope whose values, and whose ``data``'s values, are not containers is two
  deep; only other events are measured.
- personal ids: for such a two-deep event the byte pre-filter only has to answer for strings,
  keys and integers (their text is what a reader reads in a pure-ASCII line without escapes);
  its few floats are checked exactly, one by one, so hex ids like "8e73" no longer look like
  exponents and send the line the full way.
- duplicate keys: a line that is byte for byte orjson's serialisation of the decoded object
  (plus trailing whitespace) repeats no key, since a dict cannot. Otherwise byte counts: with
  whitespace removed every key ends in ``":``, so ``count(b'":')`` is at
  least the number of key/value pairs written (quotes inside strings only add). The count is
  taken with JSON's four whitespace bytes deleted, so ``"key" :`` counts as well (deleting them
  inside strings can only add matches). Once the only objects are the envelope and its ``data``
  (``count(b"{")`` says so), the decoded objects hold that many keys exactly when none was
  repeated. Only when both fail does the strict parse run.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable

import orjson

from .personal_id import (
    float_has_personal_id, may_contain_personal_id, text_may_contain_personal_id, value_has_personal_id,
)

MAX_DEPTH = 16
_loads = orjson.loads
_dumps = orjson.dumps
_JSONDecodeError = orjson.JSONDecodeError


class _DuplicateKey(Exception):
    pass


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


_STRICT = json.JSONDecoder(object_pairs_hook=_refuse_duplicates)


def depth_of(value: object) -> int:
    """How many containers deep ``value`` nests (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    children: Iterable[Any]
    while stack:
        item, level = stack.pop()
        if type(item) is dict:
            children = item.values()
        elif type(item) is list:
            children = item
        else:
            continue
        if level > deepest:
            deepest = level
        stack.extend((child, level + 1) for child in children if type(child) is dict or type(child) is list)
    return deepest


def _has_duplicate_key(raw: bytes) -> bool:
    try:
        _STRICT.decode(raw.decode("utf-8"))
    except _DuplicateKey:
        return True
    except (ValueError, RecursionError):  # orjson accepted it; json disagreeing is not a duplicate
        return False
    return False


_DEEP = None  # what :func:`_shallow_floats` says of a value with deeper containers


def _shallow_floats(obj: dict) -> list | None:
    """For the common event (the envelope and ``data`` hold no further container) the floats
    among their values, cheaply; :data:`_DEEP` (None) for any other value."""
    floats = []
    for value in obj.values():
        kind = type(value)
        if kind is dict:
            for inner in value.values():
                kind = type(inner)
                if kind is float:
                    floats.append(inner)
                elif kind is dict or kind is list:
                    return _DEEP
        elif kind is float:
            floats.append(value)
        elif kind is list:
            return _DEEP
    return floats


def _may_repeat_a_key(raw: bytes, obj: dict) -> bool:
    """False when byte counts prove no object in ``raw`` repeats a key (module docstring)."""
    data = obj.get("data")
    objects, pairs = (2, len(obj) + len(data)) if type(data) is dict else (1, len(obj))
    if raw.count(b"{") != objects:
        return True
    return raw.translate(None, b" \t\n\r").count(b'":') != pairs


def _orjson_reason(error: orjson.JSONDecodeError) -> str:
    message = str(error).lower()
    return "too_deep" if "depth" in message or "recursion" in message else "invalid_json"


def decode_event(raw: bytes) -> dict | str:
    """One line (bytes, surrounding whitespace allowed) as a checked JSON object, or a reason:
    ``invalid_json``, ``bad_type`` (not an object), ``too_deep``, ``duplicate_key`` or
    ``personal_id_in_payload``."""
    try:
        obj = _loads(raw)
    except _JSONDecodeError as error:
        return _orjson_reason(error)
    if type(obj) is not dict:
        return "bad_type"
    floats = _shallow_floats(obj)
    if floats is _DEEP and depth_of(obj) > MAX_DEPTH:
        return "too_deep"
    # No key can repeat in orjson's own serialisation of ``obj``: when the line is exactly that
    # (what our producers and most case systems write), the proof costs one dumps and a compare.
    try:
        dumped = _dumps(obj)
    except TypeError:  # pragma: no cover - what orjson decoded it encodes
        dumped = b""
    if raw != dumped and not (raw.startswith(dumped) and not raw[len(dumped):].strip()) \
            and _may_repeat_a_key(raw, obj) and _has_duplicate_key(raw):
        return "duplicate_key"
    if floats is _DEEP:
        if may_contain_personal_id(raw) and value_has_personal_id(obj):
            return "personal_id_in_payload"
    elif (text_may_contain_personal_id(raw) and value_has_personal_id(obj)) \
            or (floats and any(float_has_personal_id(f) for f in floats)):
        return "personal_id_in_payload"
    return obj


def check_decoded(obj: object) -> str | None:
    """The same checks on a value someone else decoded (duplicates can no longer be seen)."""
    if type(obj) is not dict:
        return "bad_type"
    if depth_of(obj) > MAX_DEPTH:
        return "too_deep"
    if value_has_personal_id(obj):
        return "personal_id_in_payload"
    return None


# A JSON string (escapes included) or one structural byte: enough to find an array's elements.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.S)


class TooManyElements(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} elements")
        self.limit = limit


def split_array(raw: bytes, limit: int | None = None) -> list[bytes]:
    """The raw bytes of each element of a JSON array that orjson already accepted, in order,
    without decoding them; raises :class:`TooManyElements` as soon as there are more than
    ``limit``. Each element can then go through :func:`decode_event` on its own bytes."""
    start = raw.index(b"[") + 1
    elements: list[bytes] = []
    level = 0
    element_start = start
    for m in _TOKEN.finditer(raw, start):
        token = m.group()
        first = token[0]
        if first == 0x22:  # a string
            continue
        if first in (0x5B, 0x7B):  # [ {
            level += 1
        elif first in (0x5D, 0x7D):  # ] }
            if level == 0:  # the array's own end
                last = raw[element_start:m.start()].strip()
                if last:
                    elements.append(last)
                break
            level -= 1
        elif level == 0:  # a comma between elements
            elements.append(raw[element_start:m.start()].strip())
            element_start = m.end()
            if limit is not None and len(elements) > limit:
                raise TooManyElements(limit)
    if limit is not None and len(elements) > limit:
        raise TooManyElements(limit)
    return elements
