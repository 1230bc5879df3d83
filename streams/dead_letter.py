"""Dead letters: what a rejected input becomes on the dead-letter topic, one format for all.

The worker, ``casewatch ingest``, the ingest API and the CSV importer all write dead letters
with :func:`dead_letter_record`; ``casewatch dlq`` reads them back with :func:`header`.

A dead letter keeps the line's original bytes so that it can be inspected and, once the cause
is fixed, replayed (``casewatch dlq replay``). The one exception is personal data: a line that
holds a Swedish personal identity or coordination number (CONTRACT.md §1a) is stored with every
such number replaced by ``[personnummer]`` -- whatever the reason it was rejected for (a broken
JSON line can carry one too), and also when the digits hide behind JSON ``\\u00XX`` escapes.
Such a dead letter is no longer the original event and is never replayed.

Headers (all UTF-8 text), always: ``reason`` (one of ``streams.contract.validate.REASONS``),
``field`` (our catalogue's field name, empty when none), ``source`` (who handed us the bytes:
the ingest API's source name, ``casewatch-ingest`` or ``casewatch-worker``) and ``redacted``
(``1`` when the value is not the original bytes, else ``0``); where they are known
``source_file`` (the file's base name, never a path; names are redacted like values) and
``line_no`` (1-based). The message key, when there is one, is redacted like the value.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from streams.contract.personal_id import contains_personal_id, number_digits, redact
from streams.contract.validate import Rejection
from streams.core.case_budget import CASE_TOO_LARGE

MASK = "[personnummer]"
PERSONAL_ID_REASON = "personal_id_in_payload"
# Used only if the validator saw a personal id that no textual form of the line reveals: the
# value must then not be the original either.
_WITHHELD = b'{"withheld":"personal_id_in_payload"}'

# JSON may spell a digit, "+" or "-" as a \u escape; the validator sees the decoded string.
_ESCAPED = re.compile(r"\\u00(3[0-9]|2[bBdD])")
# A number with an exponent reads as other digits than its text (1.98112189876e11 is
# 198112189876): such a number is masked when its digits written out hold a personal id.
_EXPONENT_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+")


# Reasons only the worker gives (CASE_TOO_LARGE: its case's kept state has no room left; the
# replays count it too) (beside the validator's ``REASONS``).
MISROUTED = "misrouted"  # the Kafka key is not the event's case_id
WORKER_REASONS = (MISROUTED, CASE_TOO_LARGE)
# A dead letter's value is never larger than this: above it the value is withheld (a marker
# with the size stays), so a record of any size can be dead-lettered below the broker's limit.
MAX_VALUE_BYTES = 256 * 1024


class DeadLetter(NamedTuple):
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def _unescape_digits(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def _mask_numbers(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        return MASK if contains_personal_id(number_digits(float(m.group(0)))) else m.group(0)

    return _EXPONENT_NUMBER.sub(sub, text)


def safe_value(raw: bytes, reason: str | None = None) -> tuple[bytes, bool]:
    """``raw`` when it holds no personal id, else a redacted copy; and whether it was redacted.

    Numbers are read as the validator reads them, also in a line rejected for another reason
    first (a repeated key, too deep, broken JSON): such a line is never decoded by the check."""
    text = raw.decode("utf-8", "replace")
    if ("e" in text or "E" in text) and _EXPONENT_NUMBER.search(text):
        masked = _mask_numbers(text)
        if masked != text:
            return safe_value(masked.encode("utf-8"))[0], True
    if "\\" in text:
        unescaped = _unescape_digits(text)
        if unescaped != text and contains_personal_id(unescaped):
            # Redact the decoded form: the escaped digits are the number itself.
            return redact(unescaped, MASK).encode("utf-8"), True
    if contains_personal_id(text):
        return redact(text, MASK).encode("utf-8"), True
    if reason == PERSONAL_ID_REASON:
        return _WITHHELD, True
    return raw, False


def redact_bytes(raw: bytes) -> bytes:
    """``raw`` with every personal identity number masked (unchanged when it holds none)."""
    return safe_value(raw)[0]


def dead_letter_record(raw: bytes | str | None, rejection: Rejection, *, source: str,
                       key: bytes | None = None, source_file: str | None = None,
                       line_no: int | None = None, max_value: int = MAX_VALUE_BYTES) -> DeadLetter:
    """The dead-letter message for one rejected input (``raw`` without its line terminator).

    Every dead letter is checked for personal ids, not only ``personal_id_in_payload`` ones: a
    line rejected as invalid JSON may still carry one, and so may the key.
    """
    if raw is None:
        raw = b""
    elif isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > max_value:
        value, redacted = _withheld_value(len(raw), "too_large"), True
    else:
        value, redacted = safe_value(raw, rejection.reason)
    headers = [("reason", rejection.reason.encode()), ("field", (rejection.field or "").encode()),
               ("source", redact(source, MASK).encode("utf-8", "replace"))]
    if source_file is not None:
        headers.append(("source_file", redact(source_file, MASK).encode("utf-8", "replace")))
    if line_no is not None:
        headers.append(("line_no", str(line_no).encode()))
    headers.append(("redacted", b"1" if redacted else b"0"))
    return DeadLetter(redact_bytes(key) if key is not None else None, value, headers)


def _withheld_value(size: int, why: str) -> bytes:
    return b'{"withheld":"%s","bytes":%d}' % (why.encode(), size)


def withheld(letter: DeadLetter, why: str) -> DeadLetter:
    """``letter`` without its value (a marker saying why, and how large it was): what is sent
    when Kafka refuses the dead letter itself."""
    headers = [(k, v) for k, v in letter.headers if k != "redacted"] + [("redacted", b"1")]
    key = letter.key if letter.key is None or len(letter.key) <= 1024 else None
    return DeadLetter(key, _withheld_value(len(letter.value), why[:64]), headers)


def header(headers, *names: str) -> str | None:
    """The first of ``names`` present in a dead letter's headers, decoded."""
    for name in names:
        for key, value in headers or ():
            if key == name:
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return None


def is_redacted(headers) -> bool:
    """True when the dead letter's value is not the original bytes (stated in its headers)."""
    return header(headers, "redacted") == "1"
