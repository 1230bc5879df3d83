"""A readable Swedish summary of KPI figures per unit, for the terminal (demo, replay)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Callable, Optional

from streams import swedish
from streams.municipalities import municipality_text
from streams.vocabulary import PLACEMENT_TYPES_SV

# Running text: "3 HVB, 2 arvoderat familjehem" (acronyms keep their capitals).
PLACEMENT_NAMES = {code: name if name.isupper() or name == "SiS" else name.lower()
                   for code, name in PLACEMENT_TYPES_SV.items()}
DisplayName = Callable[[str, str], str]


def _line(label: str, value: str, note: str = "", shown: object = True) -> str | None:
    """One row; None when ``shown`` is falsy (a unit without that activity)."""
    if not shown:
        return None
    return f"  {label:<48} {value:>10}{'  ' + note if note else ''}"


def unit_heading(municipality: str, unit: str, display_name: Optional[DisplayName] = None) -> str:
    """``Enhet bou-1, Tyresö kommun``, or ``Enhet Barn och unga, mottagning (bou-1), Tyresö kommun``
    when the unit registry names it: the municipality by its name, as the alert texts and the
    board report name it (its code only when SCB's table has no name for it)."""
    name = display_name(municipality, unit) if display_name else unit
    where = municipality_text(municipality)
    return f"Enhet {unit}, {where}" if name == unit else f"Enhet {name} ({unit}), {where}"


def unit_summary(municipality: str, unit: str, k: dict, display_name: Optional[DisplayName] = None) -> str:
    n = swedish.number
    reports = k["reports_received"] or k["reports_awaiting_screening"] or k["reports_received_last_7d"]
    investigations = k["investigations_open"] or k["investigations_closed"]
    rows = [
        unit_heading(municipality, unit, display_name),
        _line("Orosanmälningar i perioden", n(k["reports_received"]),
              f"senaste 7 dagarna {n(k['reports_received_last_7d'])}, "
              f"normalt {n(k['reports_received_weekly_mean_12w'], 1)}/vecka", reports),
        _line("Väntar på förhandsbedömning", n(k["reports_awaiting_screening"]),
              f"varav {n(k['reports_screening_overdue'])} över 14 dagar, {n(k['reports_screening_due_soon'])} snart",
              reports),
        _line("Skyddsbedömningar ej gjorda inom 24 timmar", n(k["protection_assessments_overdue"]), shown=reports),
        _line("Pågående utredningar", n(k["investigations_open"]),
              f"varav {n(k['investigations_overdue'])} barnutredningar över 4 månader, "
              f"{n(k['investigations_due_soon'])} snart",
              investigations),
        _line("Avslutade utredningar i perioden", n(k["investigations_closed"]),
              f"snitt {n(k['investigation_days_mean'])} dagar", investigations),
        _line("Utredningar som fortsätter en tidigare", n(k["investigations_linked_open"]),
              "samma tidsfrist (sammanlänkade)", k["investigations_linked_open"]),
        _line("Ärenden in / ut (flyttade mellan enheter)", f"{n(k['transfers_in'])} / {n(k['transfers_out'])}",
              shown=k["transfers_in"] or k["transfers_out"]),
        _line("Verkställighet avbruten", n(k["enforcements_interrupted"]),
              f"varav {n(k['interruptions_reportable'])} att rapportera till IVO", k["enforcements_interrupted"]),
        _line("Ej verkställda beslut", n(k["decisions_not_enforced"]),
              f"varav {n(k['decisions_reportable'])} att rapportera till IVO", k["decisions_not_enforced"]),
        _line("Pågående placeringar", n(sum(k["placements_active"].values())),
              ", ".join(f"{PLACEMENT_NAMES.get(t, t)} {n(c)}" for t, c in k["placements_active"].items()),
              k["placement_days"]),
        _line("Aktiva placeringar enligt SoL / LVU / LVM",
              " / ".join(n(k["placements_active_by_legal_basis"].get(b, 0)) for b in ("sol", "lvu", "lvm")),
              shown=k["placements_active_by_legal_basis"]),
        _line("Placeringskostnad i perioden", swedish.tkr(sum(k["placement_cost_sek"].values())),
              shown=k["placement_days"]),
        _line("Årsarbetare (egen personal / inhyrda konsulter)",
              f"{n(k['staff_active'].get('permanent', 0), 1)} / {n(k['staff_active'].get('consultant', 0), 1)}",
              f"andel inhyrda konsulter {swedish.percent(k['consultant_share'])}", k["staff_active"]),
        _line("Konsultkostnad i perioden", swedish.tkr(k["consultant_cost_sek"]), shown=k["consultant_cost_sek"]),
        _line("Pågående utredningar per socialsekreterare", n(k["caseload_per_social_worker"], 1),
              shown=k["caseload_per_social_worker"] is not None),
        _line("Väntetid ekonomiskt bistånd, medel (dagar)", n(k["application_wait_days_mean"], 1),
              shown=k["application_wait_days_mean"] is not None),
        _line("Utbetalt ekonomiskt bistånd i perioden", swedish.tkr(k["payments_sek"]), shown=k["payments_sek"]),
    ]
    return "\n".join(row for row in rows if row is not None)


def period_text(start: str, end_exclusive: str) -> str:
    """``1–28 november 2026``, ``1 oktober – 28 november 2026``, across years in full."""
    first, last = date.fromisoformat(start), date.fromisoformat(end_exclusive) - timedelta(days=1)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{swedish.long_date(last)}"
    if first.year == last.year:
        return f"{first.day} {swedish.month_name(first.month)} – {swedish.long_date(last)}"
    return f"{swedish.long_date(first)} – {swedish.long_date(last)}"


def render_summary(result: dict, display_name: Optional[DisplayName] = None) -> str:
    events = result["events"]
    as_of = datetime.fromisoformat(result["as_of"])
    head = (
        f"{swedish.as_of_line(as_of)}, perioden {period_text(result['period']['from'], result['period']['to'])}\n"
        f"Händelser: {swedish.number(events['accepted'])} godkända, {swedish.number(events['duplicates'])} dubbletter, "
        f"{swedish.number(events['rejected'])} avvisade"
    )
    units = [
        unit_summary(municipality, unit, kpis, display_name)
        for municipality, by_unit in result["units"].items()
        for unit, kpis in by_unit.items()
    ]
    return "\n\n".join([head, *units])
