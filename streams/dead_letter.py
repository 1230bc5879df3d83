"""Dead letters: what a rejected input line becomes on the dead-letter topic.

A dead letter keeps the line's original bytes so that it can be inspected and, once the cause
is fixed, replayed (``casewatch dlq replay``). The one exception is personal data: a line that
holds a Swedish personal identity or coordination number (CONTRACT.md §1a) is stored with every
such number replaced by ``[personnummer]`` -- whatever the reason it was rejected for (a broken
JSON line can carry one too), and also when the digits hide behind JSON ``\\u00XX`` escapes.
Such a dead letter is no longer the original event and is never replayed.

Headers (all UTF-8 text): ``reason`` (one of ``streams.contract.validate.REASONS``), ``field``
(our catalogue's field name, empty when none), and where they are known ``source_file`` (the
file's base name, never a path; names are redacted like values), ``line_no`` (1-based) and ``source`` (the ingest API's source
name). ``redacted: 1`` marks a value that is not the original bytes.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from streams.contract.personal_id import contains_personal_id, redact
from streams.contract.validate import Rejection

MASK = "[personnummer]"
PERSONAL_ID_REASON = "personal_id_in_payload"
# Used only if the validator saw a personal id that no textual form of the line reveals: the
# value must then not be the original either.
_WITHHELD = b'{"withheld":"personal_id_in_payload"}'

# JSON may spell a digit, "+" or "-" as a \u escape; the validator sees the decoded string.
_ESCAPED = re.compile(r"\\u00(3[0-9]|2[bBdD])")


class DeadLetter(NamedTuple):
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def _unescape_digits(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def safe_value(raw: bytes, reason: str | None = None) -> tuple[bytes, bool]:
    """``raw`` when it holds no personal id, else a redacted copy; and whether it was redacted."""
    text = raw.decode("utf-8", "replace")
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


def dead_letter_record(raw: bytes | str, rejection: Rejection, *, source_file: str | None = None,
                       line_no: int | None = None, source: str | None = None) -> DeadLetter:
    """The dead-letter message for one rejected input (``raw`` without its line terminator)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    value, redacted = safe_value(raw, rejection.reason)
    headers = [("reason", rejection.reason.encode()), ("field", (rejection.field or "").encode())]
    if source_file is not None:
        headers.append(("source_file", redact(source_file, MASK).encode("utf-8", "replace")))
    if line_no is not None:
        headers.append(("line_no", str(line_no).encode()))
    if source is not None:
        headers.append(("source", redact(source, MASK).encode("utf-8", "replace")))
    if redacted:
        headers.append(("redacted", b"1"))
    return DeadLetter(None, value, headers)
