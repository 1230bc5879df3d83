"""Detection of Swedish personal identity and coordination numbers (CONTRACT.md §1a).

A candidate is a run of 10 or 12 digits not touching other digits, optionally with one separator
before the last four. It is a personal identity number when its date part is a valid date
(day + 60 for a samordningsnummer), a 12-digit form starts with 18, 19 or 20, and the last digit
passes the Luhn check over the 10-digit form.

Text is read as a person reads it (:func:`readable`): JSON ``\\u`` escapes decoded, Unicode NFKC,
invisible characters (zero-width, soft hyphen, other format characters, variation selectors)
removed, every Unicode decimal digit read as its ASCII digit; the separator may be ``-``, ``+``,
any Unicode space, dash or minus sign. A JSON number is read as its decimal digits written out
without exponent. Nothing here ever returns or logs the value.

:func:`may_contain_personal_id` is the cheap pre-filter on raw JSON bytes. Its invariant (held by
a property test): whenever :func:`value_has_personal_id` finds one in the decoded document, the
pre-filter said True. It is exact only for pure-ASCII lines without escapes; anything else goes
the full way.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

# Unicode spaces (category Zs), dashes (category Pd) and minus signs. NFKC already folds most of
# them to " " or "-"; the rest are listed so that the separator rule does not depend on it.
SPACES = "\u0020\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
DASHES = ("\u002d\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b"
          "\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead")
MINUS_SIGNS = "\u2212\u207b\u208b\u2796"
SEPARATORS = "+" + SPACES + DASHES + MINUS_SIGNS

# Invisible characters a reader does not see between two digits: all format characters
# (category Cf: zero-width space/joiners, soft hyphen, word joiner, BOM, bidi controls, tags),
# the combining grapheme joiner, Hangul fillers and the variation selectors.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef]"
)
_SEP_CLASS = "[" + re.escape(SEPARATORS) + "]"
_CANDIDATE = re.compile(r"(?<![0-9])([0-9]{6}|[0-9]{8})" + _SEP_CLASS + r"?([0-9]{4})(?![0-9])")
_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")
_JSON_ESCAPE = re.compile(r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})")


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


def _unescape(m: re.Match[str]) -> str:
    if m.group(3) is not None:
        code = int(m.group(3), 16)
        return m.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)
    high, low = int(m.group(1), 16), int(m.group(2), 16)
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def readable(text: str) -> str:
    """``text`` as a person reads it: escapes decoded, NFKC, invisibles gone, ASCII digits.

    ASCII text without a backslash is returned as it is (the common case, and cheap)."""
    if "\\" in text:
        text = _JSON_ESCAPE.sub(_unescape, text)
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return _NON_ASCII_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(0))), text)


def contains_personal_id(text: str) -> bool:
    for m in _CANDIDATE.finditer(readable(text)):
        if _is_personal_id(m.group(1), m.group(2)):
            return True
    return False


def number_digits(value: int | float) -> str:
    """A JSON number as a reader sees its digits: the decimal value written out, no exponent."""
    if type(value) is int:
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return ""
    return format(Decimal(repr(value)), "f")


def value_has_personal_id(value: object) -> bool:
    """Walk a decoded JSON value without recursion: strings, object keys and numbers."""
    stack: list[Any] = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            if contains_personal_id(item):
                return True
        elif kind is dict:
            for key in item:
                if contains_personal_id(key):
                    return True
            push(item.values())
        elif kind is list:
            push(item)
        elif kind is int or kind is float:
            if contains_personal_id(number_digits(item)):
                return True
    return False


# Kept for callers that only knew strings: numbers are read too now.
any_string_has_personal_id = value_has_personal_id

# Every ASCII digit becomes "0": a six-digit run then shows up as a plain substring search,
# far cheaper than a regex scan of every line.
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0000000000")
_ASCII_SEPARATORS = b"-+ "
_EXPONENT = re.compile(rb"0[eE][-+]?0")


def may_contain_personal_id(raw: bytes) -> bool:
    """Cheap pre-filter on a raw JSON line: False means no value in it can hold one.

    Exact for pure-ASCII lines without escapes; any other line (a ``\\u0031``, a fullwidth digit,
    a zero-width space, a no-break space) answers True and takes the full check. A number with an
    exponent, or with ten or more digits after its point, may be written out differently from its
    text, so it answers True too.
    """
    if b"\\" in raw or not raw.isascii():
        return True
    zeros = raw.translate(_DIGITS_TO_ZERO)
    if b".0000000000" in zeros or ((b"0e" in zeros or b"0E" in zeros) and _EXPONENT.search(zeros)):
        return True
    return _has_candidate_run(zeros)


def text_may_contain_personal_id(raw: bytes) -> bool:
    """:func:`may_contain_personal_id` for the strings, keys and integers of a line only: a
    float's written-out digits may differ from its text, so the caller checks every float of
    the decoded value itself (:func:`float_has_personal_id`). Hex strings such as UUIDs look
    like exponents ("8e73") and would send every such line the full way otherwise."""
    if b"\\" in raw or not raw.isascii():
        return True
    return _has_candidate_run(raw.translate(_DIGITS_TO_ZERO))


def float_has_personal_id(value: float) -> bool:
    """Whether a JSON number decoded as a float reads as a personal identity number."""
    return contains_personal_id(number_digits(value))


def _has_candidate_run(zeros: bytes) -> bool:
    """Whether ``zeros`` (a line with every ASCII digit turned into "0") has a digit run that
    could be a personal identity number: 10 or 12 digits, or 6 or 8 and a separator and 4."""
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
        if run in (6, 8) and end + 5 <= n and zeros[end] in _ASCII_SEPARATORS \
                and zeros[end + 1:end + 5] == b"0000" and (end + 5 == n or zeros[end + 5] != 48):
            return True
        start = zeros.find(b"000000", end)
    return False


def redact(text: str, mask: str = "[personnummer]") -> str:
    """``text`` with every personal identity number replaced: safe to store in a dead letter.

    Text that hides a number behind escapes or Unicode comes back in its readable form (see
    :func:`readable`), masked; plain ASCII text keeps every other character as it was."""
    def _sub(m: re.Match[str]) -> str:
        return mask if _is_personal_id(m.group(1), m.group(2)) else m.group(0)

    plain = _CANDIDATE.sub(_sub, text)
    shown = readable(plain)
    if shown == plain:
        return plain
    masked = _CANDIDATE.sub(_sub, shown)
    return masked if masked != shown else plain
