"""Is a secret key strong enough to protect pseudonyms of personal identity numbers?

A pseudonym is HMAC-SHA256(key, personnummer). There are only about 10^9 valid personal
identity numbers (a few million per birth year), so whoever holds the key reverses every
pseudonym by trying them all in minutes; whoever guesses the key does the same. The key is the
only protection, so it must be a machine-made secret of at least 256 bits.

A key is accepted when, written as

* hex: at least 64 hex digits (``openssl rand -hex 32``),
* base64 or base64url: at least 32 decoded bytes (``openssl rand -base64 32``),
* any other text: length x log2(the character classes it uses) >= 256 bits,

and it does not look made by hand: not a repetition of a shorter part ("abcabc...", "aaaa"),
and not a text whose characters are far less varied than random ones of that length would be
(a random key's empirical entropy per character sits close to the most it can be).
This is a gate against mistakes, not a proof of randomness: generate keys, never type them.
"""
from __future__ import annotations

import base64
import binascii
import math
import re
import string
from collections import Counter
from dataclasses import dataclass

MIN_BITS = 256
GENERATE_HINT = "generate one with `openssl rand -hex 32` (64 hex digits) and keep it in a secrets store"
_HEX = re.compile(r"[0-9a-fA-F]+")
_B64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
# how much of the most empirical entropy per character a random key of its length reaches,
# at the least: in 100 000 random keys each of hex, base64 and text the lowest was 0.77
VARIETY_FLOOR = 0.7


class WeakKeyError(ValueError):
    """The key is too short or patterned (the message never contains the key)."""


@dataclass(frozen=True)
class KeyAssessment:
    encoding: str  # "hex", "base64" or "text"
    bits: float  # nominal bits for its encoding and length
    problem: str | None  # why it is refused, or None


def _shannon_per_char(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _shortest_period(text: str) -> int:
    """The smallest p such that text is a prefix of its first p characters repeated."""
    n = len(text)
    for p in range(1, n // 2 + 1):
        if all(text[i] == text[i % p] for i in range(p, n)):
            return p
    return n


def _text_pool(text: str) -> int:
    pool = 0
    for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
        if any(c in chars for c in text):
            pool += len(chars)
    if any(c not in string.ascii_letters + string.digits for c in text):
        pool += 33  # printable ASCII punctuation and space; more for other scripts is not claimed
    return pool


def assess_key(key: str) -> KeyAssessment:
    if _HEX.fullmatch(key) and len(key) >= 32:
        encoding, bits, alphabet = "hex", 4.0 * len(key), 16
    else:
        decoded = None
        if _B64.fullmatch(key) and len(key) >= 40:
            padded = key.replace("-", "+").replace("_", "/")
            padded += "=" * (-len(padded) % 4)
            try:
                decoded = base64.b64decode(padded, validate=True)
            except (binascii.Error, ValueError):
                decoded = None
        if decoded is not None:
            encoding, bits, alphabet = "base64", 8.0 * len(decoded), 64
        else:
            pool = _text_pool(key)
            encoding, bits, alphabet = "text", len(key) * math.log2(max(pool, 2)), max(pool, 2)
    problem = None
    if not key:
        problem = "it is empty"
    elif _shortest_period(key) <= len(key) // 2:
        problem = "it repeats a shorter part"
    elif bits < MIN_BITS:
        problem = f"it is too short: about {bits:.0f} bits as {encoding}, {MIN_BITS} are needed"
    else:
        best = math.log2(min(alphabet, len(key)))
        if _shannon_per_char(key) < VARIETY_FLOOR * best:
            problem = "its characters are far less varied than a random key's"
    return KeyAssessment(encoding, bits, problem)


def require_strong_key(key: str, what: str = "the pseudonymisation key") -> None:
    """Raise :class:`WeakKeyError` with a clear message when ``key`` is weak."""
    found = assess_key(key)
    if found.problem:
        raise WeakKeyError(f"{what} is too weak: {found.problem}; {GENERATE_HINT}")
