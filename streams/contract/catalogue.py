"""The event catalogue of CONTRACT.md §2 as data: one spec per event type.

The validator, the JSON Schema for integrators and the simulator's checks all read this table,
so a new event type or field is added in exactly one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["enum", "bool", "number", "nonneg_number", "fte", "id", "text", "timestamp", "unit"]

REPORTERS = ("skola", "polis", "halso_sjukvard", "socialtjanst", "anonym", "annan")
AGE_BANDS = ("0-12", "13-17", "18-20")
SCREENING_OUTCOMES = ("investigation_opened", "no_investigation", "joined_ongoing_investigation")
AREAS = ("barn_unga", "vuxna", "ekonomiskt_bistand", "vald_i_nara_relation", "annan")
INVESTIGATION_OUTCOMES = ("decision", "no_action")
INTERVENTIONS = ("familjebehandling", "kontaktfamilj", "kontaktperson", "placement", "stodboende", "annan")
PLACEMENT_TYPES = ("hvb", "sis", "familjehem", "familjehem_arvoderat", "jourhem", "skyddat_boende", "stodboende")
ROLES = ("socialsekreterare", "arbetsledare", "behandlare", "annan")
EMPLOYMENTS = ("permanent", "consultant")
DECISION_LEGAL_BASES = ("sol", "lvu", "lvm", "annan")
PLACEMENT_LEGAL_BASES = ("sol", "lvu", "lvm")
SEXES = ("kvinna", "man")
DELAY_REASONS = ("ingen_resurs", "tackat_nej_till_erbjudande", "enskild_vill_vanta", "annan")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Kind
    required: bool = True
    choices: tuple[str, ...] = ()
    default: object = None


@dataclass(frozen=True, slots=True)
class EventSpec:
    type: str
    swedish: str
    fields: tuple[Field, ...]
    code: int  # position in the catalogue; also the tie-break when events share an instant


def _spec(type_: str, swedish: str, *fields: Field) -> tuple[str, str, tuple[Field, ...]]:
    return type_, swedish, fields


_CATALOGUE = (
    _spec("report.received", "orosanmälan inkommen",
          Field("reporter", "enum", choices=REPORTERS), Field("age_band", "enum", False, AGE_BANDS)),
    _spec("report.protection_assessed", "skyddsbedömning gjord", Field("immediate_protection", "bool")),
    _spec("report.screened", "förhandsbedömning klar", Field("outcome", "enum", choices=SCREENING_OUTCOMES)),
    # child: None when absent; the fold reads it as "area is barn_unga" (CONTRACT.md §2).
    _spec("investigation.opened", "utredning inledd",
          Field("area", "enum", choices=AREAS), Field("child", "bool", False)),
    _spec("investigation.extended", "beslut om förlängd utredningstid", Field("new_due", "timestamp")),
    _spec("investigation.closed", "utredning avslutad", Field("outcome", "enum", choices=INVESTIGATION_OUTCOMES)),
    _spec("decision.made", "gynnande beslut om insats",
          Field("decision_id", "id"), Field("intervention", "enum", choices=INTERVENTIONS),
          Field("legal_basis", "enum", False, DECISION_LEGAL_BASES, "sol"), Field("sex", "enum", False, SEXES)),
    _spec("decision.enforced", "beslut verkställt", Field("decision_id", "id")),
    _spec("decision.ended", "beslut avslutat (utan verkställighet, eller avslutar ett avbrott)",
          Field("decision_id", "id"), Field("reason", "text", False)),
    _spec("placement.started", "placering påbörjad",
          Field("placement_id", "id"), Field("placement_type", "enum", choices=PLACEMENT_TYPES),
          Field("daily_cost_sek", "nonneg_number"), Field("age_band", "enum", False, AGE_BANDS),
          Field("legal_basis", "enum", False, PLACEMENT_LEGAL_BASES, "sol")),
    _spec("placement.cost_changed", "ny dygnskostnad",
          Field("placement_id", "id"), Field("daily_cost_sek", "nonneg_number")),
    _spec("placement.ended", "placering avslutad", Field("placement_id", "id")),
    _spec("application.received", "ansökan om ekonomiskt bistånd, första kontakt",
          Field("new_applicant", "bool", False, default=False)),
    _spec("application.decided", "beslut om ekonomiskt bistånd", Field("granted", "bool")),
    _spec("payment.made", "utbetalning ekonomiskt bistånd", Field("amount_sek", "number")),
    _spec("staff.joined", "medarbetare börjar",
          Field("staff_id", "id"), Field("role", "enum", choices=ROLES),
          Field("employment", "enum", choices=EMPLOYMENTS), Field("fte", "fte", False, default=1.0),
          Field("daily_cost_sek", "nonneg_number", False)),
    _spec("staff.left", "medarbetare slutar", Field("staff_id", "id")),
    # v2 types come last: the catalogue position is stored with kept events (worker state) and
    # breaks ties at one instant, so the v1 codes must not move.
    _spec("decision.interrupted", "verkställigheten avbruten", Field("decision_id", "id")),
    _spec("decision.resumed", "verkställigheten återupptagen", Field("decision_id", "id")),
    _spec("decision.delay_reason", "orsak till dröjsmål",
          Field("decision_id", "id"), Field("reason", "enum", choices=DELAY_REASONS), Field("note", "text", False)),
    _spec("case.transferred", "ärendet flyttas till en annan enhet", Field("to_unit", "unit")),
)

CATALOGUE: dict[str, EventSpec] = {
    t: EventSpec(t, sv, fields, code) for code, (t, sv, fields) in enumerate(_CATALOGUE)
}
TYPE_BY_CODE: tuple[str, ...] = tuple(CATALOGUE)
