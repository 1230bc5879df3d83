"""Sweden's 290 municipalities by SCB's four-digit code (kommunkod), from ``data/kommuner.csv``.

Reference data, so it lives on the ground floor: the board report, the IVO pages and the
simulator (``services/``) and the alert and dashboard generators (``dashboards/``) read the one table."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "kommuner.csv"


@lru_cache(maxsize=1)
def municipalities() -> dict[str, str]:
    with open(DATA, encoding="utf-8", newline="") as stream:
        return {row["kod"]: row["namn"] for row in csv.DictReader(stream, delimiter=";")}


# A municipality's name before "kommun" takes the genitive s ("Österåkers kommun", "Stockholms
# kommun"), except after a vowel ("Tyresö kommun") or an s or x ("Borås kommun", "Kalix
# kommun"); Falun and Kalmar keep the old vowel-ending form, and Orust is written without
# (Institutet för språk och folkminnen; the municipalities' own names).
_VOWELS = frozenset("aeiouyåäö")
_OWN_FORM = {"Falun": "Falu kommun", "Kalmar": "Kalmar kommun", "Orust": "Orust kommun"}


def municipality_name(code: str) -> str:
    """``0138`` → ``Tyresö kommun``, ``0117`` → ``Österåkers kommun``; Gotland is a region; an
    unknown code is returned as it is."""
    name = municipalities().get(code)
    if name is None:
        return code
    if code == "0980":
        return "Region Gotland"
    if name in _OWN_FORM:
        return _OWN_FORM[name]
    last = name[-1].lower()
    return f"{name} kommun" if last in _VOWELS or last in "sxz" else f"{name}s kommun"


def municipality_text(code: str) -> str:
    """The municipality as running text names it: ``Tyresö kommun``, or ``kommunkod 9999`` for a
    code SCB's table does not know (the words the alert texts use, docs/GLOSSARY.md)."""
    return municipality_name(code) if code in municipalities() else f"kommunkod {code}"
