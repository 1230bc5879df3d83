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


def municipality_name(code: str) -> str:
    """``0138`` → ``Tyresö kommun``; Gotland is a region; an unknown code is returned as it is."""
    name = municipalities().get(code)
    if name is None:
        return code
    return "Region Gotland" if code == "0980" else f"{name} kommun"


def municipality_text(code: str) -> str:
    """The municipality as running text names it: ``Tyresö kommun``, or ``kommunkod 9999`` for a
    code SCB's table does not know (the words the alert texts use, docs/GLOSSARY.md)."""
    return municipality_name(code) if code in municipalities() else f"kommunkod {code}"
