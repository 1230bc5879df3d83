"""The Swedish words of the IVO list and the council page: the codes' labels come from the one
vocabulary (``streams/vocabulary.py``); only the council table's own headings live here."""
from __future__ import annotations

from streams.vocabulary import (DELAY_REASONS_SV, INTERVENTIONS_SV, IVO_KINDS_SV as KINDS_SV,  # noqa: F401
                                IVO_STATUSES_SV as STATUSES_SV, SEXES_SV, label)

WAIT_BANDS_SV = {"3-6": "3–6 månader", "7-12": "7–12 månader", "over_12": "Mer än 12 månader"}
TOTAL_SV = "Totalt"
ORDINALS_SV = {1: "första", 2: "andra", 3: "tredje", 4: "fjärde"}


def quarter_text(quarter) -> str:
    """``2024-Q3`` as a Swedish page reads it: ``tredje kvartalet 2024``."""
    return f"{ORDINALS_SV[quarter.quarter]} kvartalet {quarter.year}"


def unit_title(municipality: str, unit: str, names: dict[str, str] | None) -> str:
    """The unit as people name it: the registry's display name (``unit_names``), else
    ``Enhet <code>``; with the municipality's name, never its code."""
    from streams.municipalities import municipality_name

    name = (names or {}).get(f"{municipality}|{unit}") or f"Enhet {unit}"
    return f"{name}, {municipality_name(municipality)}"


def unit_names(registry, places) -> dict[str, str]:
    """``{"0138|bou-1": "Barn och unga, mottagning"}`` for the (municipality, unit) pairs in
    ``places`` that the unit registry names; empty without a registry."""
    if registry is None:
        return {}
    return {f"{m}|{u}": registry.display_name(m, u) for m, u in sorted(set(places))
            if registry.display_name(m, u) != u}


def intervention(code: str) -> str:
    return label("intervention", code)


def delay_reason(code: str | None) -> str:
    return "–" if code is None else label("delay_reason", code)


def sex(code: str | None) -> str:
    return label("sex", code or "okänt")
