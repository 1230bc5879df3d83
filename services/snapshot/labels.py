"""Swedish labels for the contract's keys, as the board reads them."""
from __future__ import annotations

KPI_SV = {
    "reports_awaiting_screening": "Orosanmälningar som väntar på förhandsbedömning",
    "reports_screening_overdue": "Förhandsbedömningar över 14 dagar",
    "protection_assessments_overdue": "Skyddsbedömningar ej gjorda inom 24 timmar",
    "investigations_open": "Pågående utredningar",
    "investigations_overdue": "Utredningar över lagstadgad tid",
    "decisions_not_enforced": "Ej verkställda beslut",
    "decisions_reportable": "Ej verkställda beslut äldre än 3 månader",
    "placements_active": "Pågående placeringar",
    "staff_active": "Aktiva årsarbetare",
    "consultant_share": "Andel konsulter",
    "caseload_per_social_worker": "Utredningar per socialsekreterare",
    "reports_received": "Inkomna orosanmälningar",
    "investigations_closed": "Avslutade utredningar",
    "investigation_days_mean": "Utredningstid, medel (dagar)",
    "application_wait_days_mean": "Väntetid ekonomiskt bistånd, medel (dagar)",
    "placement_days": "Vårddygn",
    "placement_cost_sek": "Placeringskostnad (kr)",
    "placements_mean": "Snittantal placerade",
    "consultant_cost_sek": "Konsultkostnad (kr)",
    "payments_sek": "Utbetalt ekonomiskt bistånd (kr)",
    "reports_screening_due_soon": "Förhandsbedömningar nära tidsgränsen",
    "investigations_due_soon": "Utredningar nära tidsgränsen",
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

INTERVENTIONS_SV = {
    "familjebehandling": "Familjebehandling", "kontaktfamilj": "Kontaktfamilj", "kontaktperson": "Kontaktperson",
    "placement": "Placering", "stodboende": "Stödboende", "annan": "Annan insats",
}

PLACEMENT_TYPES_SV = {
    "hvb": "HVB", "sis": "SiS", "familjehem": "Familjehem", "familjehem_arvoderat": "Arvoderat familjehem",
    "jourhem": "Jourhem", "skyddat_boende": "Skyddat boende", "stodboende": "Stödboende",
}

COST_SOURCES_SV = {
    "placeringar": "Placeringar", "konsulter": "Konsulter", "ekonomiskt_bistand": "Ekonomiskt bistånd",
    "huvudbok": "Huvudbok",
}

ECONOMY_SV = {
    "utfall_ack": "Utfall ack.", "budget_ack": "Budget ack.", "avvikelse_ack": "Avvikelse ack.",
    "arsprognos": "Årsprognos", "arsbudget": "Årsbudget", "avvikelse_ar": "Avvikelse",
    "foregaende_ar": "Utfall föregående år", "avvikelse_mot_foregaende_ar": "Avvikelse mot föregående år",
}
ECONOMY_OTHER_SV = {"avvikelse_procent": "Årsprognos över årsbudget (%)", "farg": "Bedömning"}

CLOCK_SERIES = (
    ("protection_assessments_overdue", "Skyddsbedömning > 24 h"),
    ("reports_screening_overdue", "Förhandsbedömning > 14 dagar"),
    ("investigations_overdue", "Utredning > 4 månader"),
    ("decisions_reportable", "Ej verkställt > 3 månader"),
)
