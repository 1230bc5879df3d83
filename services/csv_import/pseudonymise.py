"""Keyed pseudonyms for personal identity numbers and case numbers, and deterministic event ids.

Everything an adapter derives from a person is a keyed HMAC-SHA256 (the key is
``Settings.pseudonym_key`` / ``CASEWATCH_PSEUDONYM_KEY``); without the key a pseudonym cannot be
reversed by trying the ~10^9 possible personal identity numbers. The key is never logged,
written or put in an error message.

A pseudonym is ``<prefix>-<24 hex>``. Hex can, rarely, hold a run of 10 digits that passes
the date and Luhn test and would then be rejected downstream as a personal id (CONTRACT.md
1a); such a digest is re-keyed with a counter until it does not, so pseudonyms are still a pure
function of (key, kind, value).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from streams.contract.personal_id import contains_personal_id, valid_date as _valid_date

PSEUDONYM_HEX = 24
EVENT_ID_HEX = 40
MIN_KEY_LENGTH = 16

_PERSONAL_ID = re.compile(r"(\d{2})?(\d{6})([-+]?)(\d{4})")
_SPACES = re.compile(r"\s+")


class PseudonymKeyError(ValueError):
    """The pseudonymisation key is missing or too short (the message never shows it)."""


def key_from_settings(settings) -> bytes:
    """The key as bytes from :class:`streams.settings.Settings`, or a clear error."""
    secret = getattr(settings, "pseudonym_key", None)
    value = secret.get_secret_value() if secret is not None else ""
    if not value:
        raise PseudonymKeyError(
            "no pseudonymisation key: set CASEWATCH_PSEUDONYM_KEY (or pseudonym_key in the "
            "config file) to a secret of at least 16 characters; keep it the same for every "
            "import, or pseudonyms and event ids change")
    if len(value) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(f"the pseudonymisation key is too short: use at least {MIN_KEY_LENGTH} characters")
    return value.encode("utf-8")


def normalise_text(value: str) -> str:
    """NFC, stripped, inner whitespace collapsed: how source values are compared and hashed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def normalise_personal_id(value: str, today: date | None = None) -> str | None:
    """The 12-digit form (``YYYYMMDDNNNC``) of a valid personal identity or coordination
    number written in any of the usual ways, or None when ``value`` is not one.

    The 10-digit form gets its century from the separator, as the Population Register does:
    ``-`` (or none) = the latest century giving a birth date not in the future, ``+`` = 100
    years before that.
    """
    text = normalise_text(value).replace(" ", "")
    m = _PERSONAL_ID.fullmatch(text)
    if m is None or not contains_personal_id(text):
        return None
    century, yymmdd, sep, tail = m.groups()
    if century:
        if sep == "+":  # a 12-digit form carries its century; a "+" there is malformed
            return None
        return century + yymmdd + tail
    today = today or date.today()
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    real_dd = dd - 60 if dd > 60 else dd
    year = (today.year // 100) * 100 + yy
    if year > today.year or (year == today.year and (mm, real_dd) > (today.month, today.day)):
        year -= 100
    if sep == "+":
        year -= 100
    if not _valid_date(year, mm, dd):
        return None
    return f"{year:04d}{yymmdd[2:]}{tail}"


class Pseudonymiser:
    """Derives pseudonyms and event ids with one key. Caches per value (a person recurs)."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise PseudonymKeyError("empty pseudonymisation key")
        self._key = key
        self._cache: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:  # never show the key
        return "Pseudonymiser(key=***)"

    def _digest(self, *parts: str) -> str:
        # length-prefixed, so no choice of values can make two different lists collide
        message = "".join(f"{len(part)}:{part}" for part in parts).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _safe(self, prefix: str, length: int, *parts: str) -> str:
        counter = 0
        while True:
            candidate = f"{prefix}-{self._digest(*parts, str(counter))[:length]}" if counter else \
                f"{prefix}-{self._digest(*parts)[:length]}"
            if not contains_personal_id(candidate):
                return candidate
            counter += 1

    def _cached(self, kind: str, normalised: str, prefix: str) -> str:
        key = (kind, normalised)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) > 200_000:
                self._cache.clear()
            found = self._cache[key] = self._safe(prefix, PSEUDONYM_HEX, "casewatch-pseudonym-v1", kind, normalised)
        return found

    def personal_id(self, value: str) -> str:
        """``p-<24 hex>`` for a personal identity/coordination number; ValueError when
        ``value`` is not a valid one (the message never contains it)."""
        found = self._cache.get(("raw_personal_id", value))
        if found is not None:
            return found
        normalised = normalise_personal_id(value)
        if normalised is None:
            raise ValueError("not a valid personal identity number")
        found = self._cache[("raw_personal_id", value)] = self._cached("personal_id", normalised, "p")
        return found

    def case_number(self, value: str) -> str:
        """``c-<24 hex>`` for a case number (ärendenummer/aktnummer) as the source writes it."""
        normalised = normalise_text(value).upper()
        if not normalised:
            raise ValueError("empty case number")
        return self._cached("case_number", normalised, "c")

    def identifier(self, value: str) -> str:
        """``i-<24 hex>`` for any other source identifier (placement, decision, staff number)."""
        normalised = normalise_text(value)
        if not normalised:
            raise ValueError("empty identifier")
        return self._cached("identifier", normalised, "i")

    def pseudonym(self, kind: str, value: str) -> str:
        if kind == "personal_id":
            return self.personal_id(value)
        if kind == "case_number":
            return self.case_number(value)
        if kind == "identifier":
            return self.identifier(value)
        raise ValueError(f"unknown pseudonym kind {kind!r}")

    def event_id(self, mapping_name: str, template: str, normalised_values: list[tuple[str, str]]) -> str:
        """A deterministic ``csv-<40 hex>`` event id from the mapping's name, the event template
        (a row may give several events) and the row's normalised source values."""
        parts = ["casewatch-csv-event-v1", mapping_name, template]
        for name, value in normalised_values:
            parts.append(name)
            parts.append(value)
        return self._safe("csv", EVENT_ID_HEX, *parts)
