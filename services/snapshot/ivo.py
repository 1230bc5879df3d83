"""Decisions not enforced within 3 months, as reported to IVO each quarter (SoL 16:6 f).

A favourable decision (``decision.made``) neither enforced nor ended at the quarter's last
second, whose 3-month limit (the core's enforcement clock) has passed, is reportable. The
list gives the pseudonymous case id, the decision id, the decision date, the intervention,
the days waiting at the quarter's end, and the earlier quarters in which the same decision
was already reportable (IVO wants it again each quarter until it is enforced or ended).

The core's ``DecisionItem`` carries no case or decision id; until it does, the ids are
recovered here from ``Replay.cases`` (per case) and the case's ``decision.made`` records,
and checked item by item against the core's fold (:func:`decisions_with_ids`).
Interruptions of enforcement of 3 months or more are not in the event catalogue and are not
listed.
"""
from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterator

from services.spreadsheet_text import csv_row
from streams.core.clocks import DEFAULT_CLOCKS, Clocks
from streams.core.facts import DecisionItem, fold_case
from streams.core.ivo import Quarter  # the one quarter (CONTRACT.md §6)
from streams.core.kpis import Period
from streams.core.replay import Replay
from streams.core.timeutil import local_date, local_day

from .suppress import suppress_table
from .labels import INTERVENTIONS_SV
from streams.swedish import long_date

CSV_COLUMNS = ("kommun", "enhet", "arende_id", "beslut_id", "beslutsdatum", "insats", "dagar_i_vantan",
               "rapporterbart_sedan", "tidigare_rapporterat_kvartal")


def quarter_period(quarter: Quarter) -> Period:
    """The quarter's days as a KPI period (first day to the next quarter's first day)."""
    return Period.of_dates(quarter.first_day, quarter.next().first_day)


def quarter_as_of(quarter: Quarter) -> float:
    """The quarter's last second, local time: the instant this list is taken at."""
    return quarter_period(quarter).end_ts - 1


@dataclass(frozen=True)
class Reportable:
    municipality: str
    unit: str
    case_id: str
    decision_id: str
    decided: date
    intervention: str
    days_waiting: int
    reportable_since: date
    earlier_quarters: tuple[str, ...]


def decisions_with_ids(replay: Replay, as_of: float, municipality: str | None = None
                       ) -> Iterator[tuple[str, str, str, DecisionItem]]:
    """``(municipality, case_id, decision_id, DecisionItem)`` for every decision known at ``as_of``."""
    for (mun, case_id), records in replay.cases.items():
        if municipality is not None and mun != municipality:
            continue
        for item in fold_case(mun, records.values(), as_of).decisions:
            yield mun, case_id, item.decision_id, item


def reportable(replay: Replay, quarter: Quarter, municipality: str | None = None,
               clocks: Clocks = DEFAULT_CLOCKS) -> list[Reportable]:
    as_of = quarter_as_of(quarter)
    out = []
    for mun, case_id, decision_id, item in decisions_with_ids(replay, as_of, municipality):
        if item.resolved is not None and item.resolved <= as_of:
            continue
        if item.legal_basis != "sol":  # contract v2: LVU and LVM decisions are not bistånd
            continue
        limit = clocks.enforcement.deadline(item.made)
        if not as_of > limit:
            continue
        earlier = []
        q = quarter.previous()
        while quarter_as_of(q) > limit:
            earlier.append(str(q))
            q = q.previous()
        out.append(Reportable(
            municipality=mun, unit=item.unit, case_id=case_id, decision_id=decision_id,
            decided=local_date(item.made), intervention=item.intervention,
            days_waiting=local_day(as_of) - local_day(item.made), reportable_since=local_date(limit),
            earlier_quarters=tuple(reversed(earlier)),
        ))
    out.sort(key=lambda r: (r.municipality, r.unit, r.decided, r.case_id, r.decision_id))
    return out


def to_csv(rows: list[Reportable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(csv_row([r.municipality, r.unit, r.case_id, r.decision_id, r.decided.isoformat(),
                                 r.intervention, r.days_waiting, r.reportable_since.isoformat(),
                                 ",".join(r.earlier_quarters)]))
    return buffer.getvalue()


def html_section(rows: list[Reportable], quarter: Quarter) -> str:
    """The list as an HTML section (for the IVO report; case-level, so not for publication)."""
    esc = html.escape
    body = "".join(
        f"<tr><td>{esc(r.municipality)}</td><td>{esc(r.unit)}</td><td>{esc(r.case_id)}</td>"
        f"<td>{esc(r.decision_id)}</td><td>{r.decided.isoformat()}</td>"
        f"<td>{esc(INTERVENTIONS_SV.get(r.intervention, r.intervention))}</td>"
        f"<td class='num'>{r.days_waiting}</td><td>{r.reportable_since.isoformat()}</td>"
        f"<td>{esc(', '.join(r.earlier_quarters)) or '–'}</td></tr>"
        for r in rows
    )
    if not rows:
        body = "<tr><td colspan='9'>Inga ej verkställda beslut äldre än tre månader vid kvartalets slut.</td></tr>"
    return (
        f"<section class='ivo'><h2>Ej verkställda beslut – rapport till IVO, {quarter}</h2>"
        f"<p>Gynnande beslut som inte verkställts inom tre månader från beslutsdatum, per "
        f"{long_date(quarter.last_day)}. Antal: {len(rows)}. Ärende- och besluts-id är "
        f"pseudonymer. Avbrott i verkställighet ingår inte i underlaget.</p>"
        "<table><thead><tr><th>Kommun</th><th>Enhet</th><th>Ärende-id</th><th>Beslut-id</th>"
        "<th>Beslutsdatum</th><th>Insats</th><th>Dagar i väntan</th><th>Rapporterbart sedan</th>"
        f"<th>Tidigare rapporterat (kvartal)</th></tr></thead><tbody>{body}</tbody></table></section>"
    )


def html_page(rows: list[Reportable], quarter: Quarter) -> str:
    return (
        "<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'>"
        f"<title>Ej verkställda beslut {quarter}</title><style>"
        "body{font-family:'DejaVu Sans',sans-serif;font-size:10pt;margin:1.5em}"
        "table{border-collapse:collapse}th,td{border:1px solid #999;padding:3px 6px;text-align:left}"
        "td.num{text-align:right}.secret{color:#a00;font-weight:bold}"
        "</style></head><body><p class='secret'>Sekretess enligt 26 kap. 1 § OSL – ej för publicering.</p>"
        f"{html_section(rows, quarter)}</body></html>"
    )


def board_summary(replay: Replay, municipality: str, as_of: float, quarter_of_month: Quarter,
                  below: int = 5, clocks: Clocks = DEFAULT_CLOCKS) -> dict:
    """What the board may see: counts by intervention, suppressed; never case ids."""
    waiting: dict[str, dict[str, int]] = {}
    for _mun, _case, _did, item in decisions_with_ids(replay, as_of, municipality):
        if item.resolved is not None and item.resolved <= as_of:
            continue
        over = as_of > clocks.enforcement.deadline(item.made)
        row = waiting.setdefault(item.intervention, {"under_3_man": 0, "over_3_man": 0})
        row["over_3_man" if over else "under_3_man"] += 1
    rows = {k: waiting[k] for k in sorted(waiting)}
    table = suppress_table(rows, ["under_3_man", "over_3_man"], below)
    return {"per_insats": rows, "publicerad": table.as_rows(), "kvartal": str(quarter_of_month)}


def write_report(replay: Replay, quarter: Quarter, out: Path, municipality: str | None = None) -> tuple[Path, Path, int]:
    rows = reportable(replay, quarter, municipality)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"ivo-{quarter}.csv"
    html_path = out / f"ivo-{quarter}.html"
    csv_path.write_text(to_csv(rows), encoding="utf-8")
    html_path.write_text(html_page(rows, quarter), encoding="utf-8")
    return csv_path, html_path, len(rows)
