"""The Swedish words of the IVO list and the council page: the codes' labels come from the one
vocabulary (``streams/vocabulary.py``); only the council table's own headings live here."""
from __future__ import annotations

from streams.vocabulary import (DELAY_REASONS_SV, INTERVENTIONS_SV, IVO_KINDS_SV as KINDS_SV,  # noqa: F401
                                IVO_STATUSES_SV as STATUSES_SV, SEXES_SV, label)

WAIT_BANDS_SV = {"3-6": "3–6 månader", "7-12": "7–12 månader", "over_12": "Mer än 12 månader"}
TOTAL_SV = "Totalt"


def intervention(code: str) -> str:
    return label("intervention", code)


def delay_reason(code: str | None) -> str:
    return "–" if code is None else label("delay_reason", code)


def sex(code: str | None) -> str:
    return label("sex", code or "okänt")
