"""The IVO reporter's work list (Swedish): per unit, the new reports and the follow-ups of
decisions and interruptions, as HTML, CSV and XLSX. Case-level: secret, never published.

The reporter looks each person up in the case system by the (pseudonymous) case id: IVO's form
wants birth date and sex in its own format, which casewatch never holds. Waits over six months
are flagged, as IVO follows those up.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from html import escape
from itertools import groupby
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from services.spreadsheet_text import append_row, csv_row
from services.swedish import long_date, number
from streams.core.ivo import IvoItem, IvoReport, over_six_months

from . import words

COLUMNS = ("Enhet", "Avser", "Rapport", "Ärende-id", "Beslut-id", "Insats", "Kön", "Beslutsdatum / avbrott",
           "Tre månader gick ut", "Status", "Statusdatum", "Dagar i väntan", "Över 6 månader",
           "Orsak till dröjsmål")
# Ids and dates kept on one line, so a case id is read (and copied) whole.
_CELL_CLASS = {3: "id", 4: "id", 7: "date", 8: "date", 10: "date"}
SECRET = "Sekretess enligt 26 kap. 1 § OSL – arbetslista, ej för publicering."


def rows(report: IvoReport) -> list[tuple[str, IvoItem]]:
    """``(what, line)`` in list order: unit, then decisions before interruptions, new before follow-up."""
    tagged = [("beslut", i) for i in report.decisions] + [("avbrott", i) for i in report.interruptions]
    return sorted(tagged, key=lambda t: (t[1].municipality, t[1].unit, t[0] != "beslut", t[1].kind != "new",
                                         t[1].started, t[1].case_id, t[1].decision_id))


def flagged(line: IvoItem, end: date) -> bool:
    return over_six_months(line.started, line.status_date or end)


def cells(what: str, line: IvoItem, end: date, names: dict[str, str] | None = None) -> list:
    """One row; the unit by its registry display name where ``names`` has it, else its code."""
    return [(names or {}).get(f"{line.municipality}|{line.unit}", line.unit), "Beslut" if what == "beslut" else "Avbrott i verkställighet", words.KINDS_SV[line.kind],
            line.case_id, line.decision_id, words.intervention(line.intervention), words.sex(line.sex),
            line.started.isoformat(), line.limit.isoformat(), words.STATUSES_SV[line.status],
            line.status_date.isoformat() if line.status_date else "–", line.days_waited,
            "Ja" if flagged(line, end) else "", words.delay_reason(line.delay_reason)]


def made_line(meta: dict) -> str:
    return (f"Listan skapad {meta['skapad_text']} ur {meta['kalla']}; händelser till och med "
            f"{meta['data_text']} ({number(meta['handelser']['godkanda'])} godkända händelser).")


def to_csv(report: IvoReport, names: dict[str, str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for what, line in rows(report):
        writer.writerow(csv_row(cells(what, line, report.quarter.last_day, names)))
    return out.getvalue()


def to_html(report: IvoReport, meta: dict) -> str:
    q, end = report.quarter, report.quarter.last_day
    sections = []
    all_rows = rows(report)
    for unit, group in groupby(all_rows, key=lambda t: (t[1].municipality, t[1].unit)):
        group = list(group)
        body = []
        for what, line in group:
            c = cells(what, line, end)
            flag = " class='over6'" if c[12] else ""
            body.append(f"<tr{flag}>" + "".join(
                f"<td class='{_CELL_CLASS.get(i, 'num' if isinstance(v, int) else 'text')}'>{escape(str(v))}</td>"
                for i, v in enumerate(c) if i) + "</tr>")
        n_new = sum(1 for _, l in group if l.kind == "new")
        sections.append(
            f"<h2>{escape(words.unit_title(unit[0], unit[1], meta.get('enhetsnamn')))}</h2>"
            f"<p>{n_new} {'ny' if n_new == 1 else 'nya'} att rapportera, {len(group) - n_new} "
            f"{'uppföljning' if len(group) - n_new == 1 else 'uppföljningar'}.</p>"
            "<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in COLUMNS[1:]) + "</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")
    if not sections:
        sections.append("<p>Inga beslut eller avbrott att rapportera eller följa upp detta kvartal.</p>")
    return (
        "<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'>"
        f"<title>Att rapportera till IVO, {words.quarter_text(q)}</title><style>"
        "@page{size:A4 landscape;margin:12mm}"
        "body{font-family:'DejaVu Sans',sans-serif;font-size:9pt;margin:1em}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:2px 4px;text-align:left}"
        "th{background:#eee}td.num{text-align:right}td.id,td.date{white-space:nowrap}tr.over6 td{background:#fde2e2}"
        ".secret{color:#a00;font-weight:bold}</style></head><body>"
        f"<p class='secret'>{SECRET}</p>"
        f"<h1>Ej verkställda beslut och avbrott – underlag för rapport till IVO, {words.quarter_text(q)}</h1>"
        f"<p>Kvartalet {long_date(q.first_day)}–{long_date(end)}. Gynnande beslut enligt SoL som inte "
        "verkställts inom tre månader, avbrott i verkställigheten som varat i tre månader, och uppföljning av "
        "det som rapporterats tidigare tills det verkställts eller avslutats (16 kap. 6 f–g § SoL). "
        "Status avser kvartalets slut. <b>Rosa rader</b> har väntat mer än sex månader. "
        "Slå upp personen i verksamhetssystemet med ärende-id.</p>"
        f"<p>{escape(made_line(meta))}</p>{''.join(sections)}</body></html>")


def to_xlsx(report: IvoReport, meta: dict, target: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = f"IVO kvartal {report.quarter.quarter} {report.quarter.year}"
    ws.append([SECRET])
    ws.append([made_line(meta)])
    ws.append(list(COLUMNS))
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    pink = PatternFill("solid", fgColor="FFFDE2E2")
    for what, line in rows(report):
        values = cells(what, line, report.quarter.last_day, meta.get("enhetsnamn"))
        append_row(ws, values)  # a case id is text, never a formula
        if values[12]:
            for cell in ws[ws.max_row]:
                cell.fill = pink
    for letter, width in zip("ABCDEFGHIJKLMN", (10, 22, 12, 14, 12, 18, 8, 14, 14, 14, 12, 10, 10, 26)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A4"
    wb.save(target)
    return Path(target)
