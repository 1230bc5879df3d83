"""The Swedish words of the IVO list and the council page, in one place.

Issue 19 brings ``streams/vocabulary.py`` (one vocabulary for everything shown); these maps use
its exact words and should be replaced by imports from it once both have landed.
"""
from __future__ import annotations

from services.snapshot.labels import INTERVENTIONS_SV

DELAY_REASONS_SV = {
    "ingen_resurs": "Ingen lämplig resurs", "tackat_nej_till_erbjudande": "Tackat nej till erbjudande",
    "enskild_vill_vanta": "Den enskilde vill vänta", "annan": "Annan orsak",
}
SEXES_SV = {"kvinna": "Kvinna", "man": "Man", "okänt": "Okänt"}
KINDS_SV = {"new": "Ny", "follow_up": "Uppföljning"}
STATUSES_SV = {"ej_verkstallt": "Ej verkställt", "verkstallt": "Verkställt", "avslutat": "Avslutat"}
WAIT_BANDS_SV = {"3-6": "3–6 månader", "7-12": "7–12 månader", "over_12": "Mer än 12 månader"}
TOTAL_SV = "Totalt"


def intervention(code: str) -> str:
    return INTERVENTIONS_SV.get(code, code)


def delay_reason(code: str | None) -> str:
    return "–" if code is None else DELAY_REASONS_SV.get(code, code)


def sex(code: str | None) -> str:
    return SEXES_SV.get(code or "okänt", code)
