"""Detection of Swedish personal identity and coordination numbers (CONTRACT.md §1a).

A candidate is a run of 10 or 12 digits not touching other digits, optionally with ``-`` or
``+`` before the last four. It is a personal identity number when its date part is a valid
date (day + 60 for a samordningsnummer), a 12-digit form starts with 18, 19 or 20, and the last
digit passes the Luhn check over the 10-digit form. Nothing here ever returns or logs the value.
"""
from __future__ import annotations

import re
from datetime import date

_CANDIDATE = re.compile(r"(?<!\d)(\d{6}|\d{8})[-+]?(\d{4})(?!\d)")



def valid_date(year: int, month: int, day: int) -> bool:
    """Whether the date part of a personal identity (or coordination: day + 60) number exists."""
    if day > 60:  # samordningsnummer: day of birth + 60
        day -= 60
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _luhn_ok(ten: str) -> bool:
    total = 0
    for i, ch in enumerate(ten[:9]):
        d = (ord(ch) - 48) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10 == ord(ten[9]) - 48


def _is_personal_id(head: str, tail: str) -> bool:
    if len(head) == 8:
        if head[:2] not in ("18", "19", "20"):
            return False
        if not valid_date(int(head[:4]), int(head[4:6]), int(head[6:8])):
            return False
        head = head[2:]
    else:
        yy, mm, dd = int(head[:2]), int(head[2:4]), int(head[4:6])
        # Without a century the date must exist in one of the centuries still alive.
        if not any(valid_date(century + yy, mm, dd) for century in (1900, 2000, 1800)):
            return False
    return _luhn_ok(head + tail)


def contains_personal_id(text: str) -> bool:
    for m in _CANDIDATE.finditer(text):
        if _is_personal_id(m.group(1), m.group(2)):
            return True
    return False


# Every ASCII digit becomes "0": a six-digit run then shows up as a plain substring search,
# far cheaper than a regex scan of every line.
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0000000000")


def may_contain_personal_id(raw: bytes) -> bool:
    """Cheap pre-filter on a raw JSON line: False means no string in it can hold one.

    Exact only for lines without escapes; callers must fall back to the decoded strings when
    the line contains a backslash (a ``\\u0031`` can hide a digit).
    """
    if b"\\" in raw:
        return True
    zeros = raw.translate(_DIGITS_TO_ZERO)
    start = zeros.find(b"000000")
    n = len(zeros)
    while start != -1:
        # ``start`` begins a digit run (runs are skipped whole); measure it.
        end = start + 6
        while end < n and zeros[end] == 48:
            end += 1
        run = end - start
        if run in (10, 12):
            return True
        if run in (6, 8) and end + 5 <= n and zeros[end] in b"-+" and zeros[end + 1:end + 5] == b"0000" \
                and (end + 5 == n or zeros[end + 5] != 48):
            return True
        start = zeros.find(b"000000", end)
    return False


def any_string_has_personal_id(value: object) -> bool:
    """Walk a decoded JSON value; keys are strings too."""
    if isinstance(value, str):
        return contains_personal_id(value)
    if isinstance(value, dict):
        return any(contains_personal_id(k) or any_string_has_personal_id(v) for k, v in value.items())
    if isinstance(value, list):
        return any(any_string_has_personal_id(v) for v in value)
    return False


def redact(text: str, mask: str = "[personnummer]") -> str:
    """``text`` with every personal identity number replaced: safe to store in a dead letter."""
    def _sub(m: re.Match[str]) -> str:
        return mask if _is_personal_id(m.group(1), m.group(2)) else m.group(0)

    return _CANDIDATE.sub(_sub, text)
