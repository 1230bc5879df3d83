"""The Swedish words for every code casewatch shows: one vocabulary for dashboards, alerts, the
board, the demo and the IVO list.

docs/GLOSSARY.md explains each term and where it is used; this module is what the code reads.
Every code of the contract's enumerations (``streams/contract/catalogue.py``, CONTRACT.md v2) has a
label here, and ``tests/unit/test_swedish_texts.py`` fails when one is missing, so a new code
cannot reach a Swedish reader untranslated. Labels are written as a list or legend shows them
(capital first letter); :func:`label` falls back to the code itself only for values nobody has
named yet, e.g. a category a newer source sends.
"""
from __future__ import annotations

from typing import Mapping

# --------------------------------------------------------------------------- contract codes

REPORTERS_SV: Mapping[str, str] = {
    "skola": "Skola", "polis": "Polis", "halso_sjukvard": "Hälso- och sjukvård",
    "socialtjanst": "Socialtjänst", "anonym": "Anonym anmälare", "annan": "Annan anmälare",
}
AGE_BANDS_SV: Mapping[str, str] = {"0-12": "0–12 år", "13-17": "13–17 år", "18-20": "18–20 år"}
SCREENING_OUTCOMES_SV: Mapping[str, str] = {
    "investigation_opened": "Utredning inleds", "no_investigation": "Ingen utredning inleds",
    "joined_ongoing_investigation": "Påförs pågående utredning",
}
AREAS_SV: Mapping[str, str] = {
    "barn_unga": "Barn och unga", "vuxna": "Vuxna", "ekonomiskt_bistand": "Ekonomiskt bistånd",
    "vald_i_nara_relation": "Våld i nära relation", "annan": "Annat område",
}
INVESTIGATION_OUTCOMES_SV: Mapping[str, str] = {"decision": "Beslut om insats", "no_action": "Ingen åtgärd"}
INTERVENTIONS_SV: Mapping[str, str] = {
    "familjebehandling": "Familjebehandling", "kontaktfamilj": "Kontaktfamilj", "kontaktperson": "Kontaktperson",
    "placement": "Placering", "stodboende": "Stödboende", "annan": "Annan insats",
}
LEGAL_BASES_SV: Mapping[str, str] = {"sol": "SoL", "lvu": "LVU", "lvm": "LVM", "annan": "Annan lag"}
SEXES_SV: Mapping[str, str] = {"kvinna": "Kvinna", "man": "Man", "okänt": "Okänt"}
DELAY_REASONS_SV: Mapping[str, str] = {
    "ingen_resurs": "Ingen lämplig resurs", "tackat_nej_till_erbjudande": "Tackat nej till erbjudande",
    "enskild_vill_vanta": "Den enskilde vill vänta", "annan": "Annan orsak",
}
PLACEMENT_TYPES_SV: Mapping[str, str] = {
    "hvb": "HVB", "sis": "SiS", "familjehem": "Familjehem", "familjehem_arvoderat": "Arvoderat familjehem",
    "jourhem": "Jourhem", "skyddat_boende": "Skyddat boende", "stodboende": "Stödboende",
}
ROLES_SV: Mapping[str, str] = {
    "socialsekreterare": "Socialsekreterare", "arbetsledare": "Arbetsledare", "behandlare": "Behandlare",
    "annan": "Annan yrkesroll",
}
EMPLOYMENTS_SV: Mapping[str, str] = {"permanent": "Egen personal", "consultant": "Inhyrda konsulter"}

# The IVO list (CONTRACT.md §6).
IVO_KINDS_SV: Mapping[str, str] = {"new": "Ny", "follow_up": "Uppföljning"}
IVO_STATUSES_SV: Mapping[str, str] = {"ej_verkstallt": "Ej verkställt", "verkstallt": "Verkställt",
                                      "avslutat": "Avslutat"}

# Events turned away (CONTRACT.md §1) and what became of received events.
REJECT_REASONS_SV: Mapping[str, str] = {
    "invalid_json": "Ogiltig JSON", "missing_field": "Fält saknas", "bad_type": "Fel datatyp",
    "unknown_type": "Okänd händelsetyp", "bad_timestamp": "Ogiltig tidpunkt", "bad_value": "Ogiltigt värde",
    "personal_id_in_payload": "Personnummer i händelsen", "duplicate_key": "Dubblerat fältnamn",
    "too_deep": "För djupt nästlad", "unknown_unit": "Okänd enhet", "too_large": "För stor händelse",
    "case_too_large": "Ärendet har för många händelser",
}
EVENT_OUTCOMES_SV: Mapping[str, str] = {"accepted": "Godkända", "duplicate": "Dubbletter", "rejected": "Avvisade"}

# --------------------------------------------------------------------------- monitoring codes

SEVERITIES_SV: Mapping[str, str] = {"page": "Larm", "ticket": "Ärende", "info": "Info"}
COLOURS_SV: Mapping[str, str] = {"green": "Grön", "yellow": "Gul", "red": "Röd"}
BUDGET_CATEGORIES_SV: Mapping[str, str] = {
    "placements": "Placeringar", "consultants": "Konsulter", "economic_assistance": "Ekonomiskt bistånd",
}
THRESHOLD_KINDS_SV: Mapping[str, str] = {
    "reports_awaiting_screening_max": "Högsta antal orosanmälningar som väntar på förhandsbedömning",
    "investigations_open_max": "Högsta antal pågående utredningar",
    "decisions_not_enforced_max": "Högsta antal ej verkställda beslut",
    "caseload_per_social_worker_max": "Högsta antal utredningar per socialsekreterare",
    "consultant_share_max": "Högsta andel inhyrda konsulter",
    "inflow_spike_ratio": "Ovanligt hög inströmning (gånger snittet)",
    "inflow_spike_min_reports": "Minsta antal orosanmälningar för ovanligt hög inströmning",
    "budget_deviation_pct": "Gul budgetavvikelse (%)",
}
# Who acts on an alert (the runbooks and the alert texts use these words).
ROLES_ON_CALL_SV: Mapping[str, str] = {
    "on_call": "socialjouren", "unit_head": "enhetschef", "department_head": "verksamhetschef",
    "it": "IT-drift", "system_admin": "systemförvaltare", "controller": "ekonom",
}

# --------------------------------------------------------------------------- figures

KPI_SV: Mapping[str, str] = {
    "reports_awaiting_screening": "Orosanmälningar som väntar på förhandsbedömning",
    "reports_screening_overdue": "Förhandsbedömningar över 14 dagar",
    "protection_assessments_overdue": "Skyddsbedömningar ej gjorda inom 24 timmar",
    "investigations_open": "Pågående utredningar",
    "investigations_overdue": "Barnutredningar över lagstadgad tid",
    "investigations_linked_open": "Pågående barnutredningar som fortsätter en tidigare utredning",
    "decisions_not_enforced": "Ej verkställda beslut",
    "decisions_reportable": "Ej verkställda beslut äldre än 3 månader",
    "enforcements_interrupted": "Avbrutna verkställigheter",
    "interruptions_reportable": "Verkställigheter avbrutna längre än 3 månader",
    "placements_active": "Pågående placeringar",
    "placements_active_by_legal_basis": "Pågående placeringar efter lagrum (SoL, LVU, LVM)",
    "staff_active": "Årsarbetare",
    "consultant_share": "Andel inhyrda konsulter",
    "caseload_per_social_worker": "Pågående utredningar per socialsekreterare (årsarbetare)",
    "reports_received": "Inkomna orosanmälningar",
    "investigations_closed": "Avslutade utredningar",
    "investigation_days_mean": "Utredningstid, medel (dagar)",
    "application_wait_days_mean": "Väntetid ekonomiskt bistånd, medel (dagar)",
    "placement_days": "Vårddygn",
    "placement_cost_sek": "Placeringskostnad (kr)",
    "placements_mean": "Snittantal placerade",
    "consultant_cost_sek": "Konsultkostnad (kr)",
    "payments_sek": "Utbetalt ekonomiskt bistånd (kr)",
    "households_paid": "Hushåll med utbetalning",
    "new_applicant_wait_days_mean": "Väntetid nybesök ekonomiskt bistånd, medel (dagar)",
    "protection_assessments_done": "Gjorda skyddsbedömningar",
    "protection_assessments_done_within_limit": "Skyddsbedömningar inom 24 timmar",
    "screenings_done": "Gjorda förhandsbedömningar",
    "screenings_done_within_limit": "Förhandsbedömningar inom 14 dagar",
    "child_investigations_closed": "Avslutade barnutredningar",
    "child_investigations_closed_within_limit": "Barnutredningar avslutade inom 4 månader",
    "child_investigation_days_mean": "Utredningstid barn och unga, medel (dagar)",
    "decisions_enforced": "Verkställda beslut",
    "decisions_enforced_within_limit": "Beslut verkställda inom 3 månader",
    "transfers_in": "Ärenden överflyttade hit",
    "transfers_out": "Ärenden överflyttade härifrån",
    "permanent_staff_left": "Tillsvidareanställda som slutat",
    "permanent_staff_mean": "Tillsvidareanställda, medelantal",
    "reports_screening_due_soon": "Förhandsbedömningar nära tidsgränsen",
    "investigations_due_soon": "Barnutredningar nära tidsgränsen",
    "decisions_due_soon": "Beslut nära tremånadersgränsen",
    "reports_received_last_7d": "Orosanmälningar senaste 7 dagarna",
    "reports_received_weekly_mean_12w": "Orosanmälningar per vecka, 12 veckors snitt",
}

# KPIs that count persons or cases: small values are suppressed when published.
COUNT_KPIS = frozenset({
    "reports_awaiting_screening", "reports_screening_overdue", "protection_assessments_overdue",
    "investigations_open", "investigations_overdue", "decisions_not_enforced", "decisions_reportable",
    "placements_active", "reports_received", "investigations_closed", "reports_screening_due_soon",
    "investigations_due_soon", "decisions_due_soon", "reports_received_last_7d",
})

# The four legal clocks, short, as a legend or a table row names them.
CLOCK_SERIES = (
    ("protection_assessments_overdue", "Skyddsbedömning > 24 timmar"),
    ("reports_screening_overdue", "Förhandsbedömning > 14 dagar"),
    ("investigations_overdue", "Barnutredning > 4 månader"),
    ("decisions_reportable", "Ej verkställt beslut > 3 månader"),
)

# The board's economy table.
COST_SOURCES_SV: Mapping[str, str] = {
    "placeringar": "Placeringar", "konsulter": "Konsulter", "ekonomiskt_bistand": "Ekonomiskt bistånd",
    "huvudbok": "Huvudbok",
}
ECONOMY_SV: Mapping[str, str] = {
    "utfall_ack": "Utfall ack.", "budget_ack": "Budget ack.", "avvikelse_ack": "Avvikelse ack.",
    "arsprognos": "Årsprognos", "arsbudget": "Årsbudget", "avvikelse_ar": "Avvikelse",
    "foregaende_ar": "Utfall föregående år", "avvikelse_mot_foregaende_ar": "Avvikelse mot föregående år",
}
ECONOMY_OTHER_SV: Mapping[str, str] = {"avvikelse_procent": "Årsprognos över årsbudget (%)", "farg": "Bedömning"}

# --------------------------------------------------------------------------- lookup

# Every code family by the label name it travels under (metric labels, JSON keys): what Grafana
# value mappings and the text checks iterate over.
CODE_LABELS: Mapping[str, Mapping[str, str]] = {
    "reporter": REPORTERS_SV,
    "age_band": AGE_BANDS_SV,
    "screening_outcome": SCREENING_OUTCOMES_SV,
    "area": AREAS_SV,
    "investigation_outcome": INVESTIGATION_OUTCOMES_SV,
    "intervention": INTERVENTIONS_SV,
    "legal_basis": LEGAL_BASES_SV,
    "sex": SEXES_SV,
    "delay_reason": DELAY_REASONS_SV,
    "placement_type": PLACEMENT_TYPES_SV,
    "role": ROLES_SV,
    "employment": EMPLOYMENTS_SV,
    "ivo_kind": IVO_KINDS_SV,
    "ivo_status": IVO_STATUSES_SV,
    "reason": REJECT_REASONS_SV,
    "outcome": EVENT_OUTCOMES_SV,
    "severity": SEVERITIES_SV,
    "colour": COLOURS_SV,
    "category": BUDGET_CATEGORIES_SV,
    "kind": THRESHOLD_KINDS_SV,
    "kpi": KPI_SV,
}


def label(family: str, code: str) -> str:
    """The Swedish label of ``code`` in ``family`` (a key of :data:`CODE_LABELS`); the code itself
    when nobody has named it yet, so an unknown value is shown rather than lost."""
    return CODE_LABELS[family].get(code, code)


def event_type_sv(event_type: str) -> str:
    """``report.received`` → ``Orosanmälan inkommen`` (from the catalogue, the one home of those words)."""
    from streams.contract.catalogue import CATALOGUE

    spec = CATALOGUE.get(event_type)
    return event_type if spec is None else spec.swedish[:1].upper() + spec.swedish[1:]
