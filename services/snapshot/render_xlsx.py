"""The published report as a workbook (openpyxl): the same tables as the PDF, cell for cell.

It reads the published report (:mod:`.publish`) only. Numbers are stored as numbers with a
thousands format (Excel shows them with the reader's own separators, Swedish ``4 458`` in a
Swedish Excel); suppressed cells are the text ``<5`` or ``..``; a value the PDF shows as
``–`` is ``–`` here too.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from services.spreadsheet_text import append_row
from services.swedish import MONTHS_SHORT

from .narrative import PLACEHOLDER
from .render_html import COLOUR_WORD, TREND_WORD

FILL = {"Grön": "FF2E7D32", "Gul": "FFF9C80E", "Röd": "FFC62828"}
BOLD = Font(bold=True)


def _sheet(wb, title: str, header: list[str], rows: list[list], widths: list[int] | None = None):
    ws = wb.create_sheet(title[:31])
    ws.append(header)
    for cell in ws[1]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        append_row(ws, row)  # the office's text is text, never a formula
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = "#,##0"
    for i, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    return ws


def sheets(report: dict) -> dict[str, tuple[list[str], list[list]]]:
    """Every table of the report as (header, rows), by sheet name: what the PDF shows."""
    out = {}
    econ = report["ekonomi"]["tabell"]
    out["Ekonomi"] = (econ["kolumner"], econ["rader"])
    for area in report["malomraden"]:
        out[f"Nyckeltal {area['nummer']}"] = (area["nyckeltal"]["kolumner"], area["nyckeltal"]["rader"])
    for table in report["tabeller"]:
        out[{"placeringar": "Placeringar", "ivo": "Ej verkställda beslut"}.get(table["id"], table["id"])] = (
            table["kolumner"], table["rader"])
    return out


def render_xlsx(report: dict, target: Path, changes: list[dict] | None = None) -> Path:
    wb = Workbook()
    info = wb.active
    info.title = "Rapport"
    for row in (["Rapport", report["titel"]], ["Nämnd", report["namnd"]], ["Förvaltning", report["forvaltning"]],
                ["Kommun", report["kommun"]], ["Läget per", report["laget_per"]], ["Version", report["revision"]]):
        append_row(info, row)
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 60

    grid = [[f"{a['nummer']}. {a['namn']}", *("" if m is None else COLOUR_WORD[m["farg"]] for m in a["manader"]),
             TREND_WORD[a["trend"]]] for a in report["malomraden"]]
    ws = _sheet(wb, "Måluppfyllelse", ["Målområde", *MONTHS_SHORT, "Trend"], grid, [48] + [7] * 12 + [14])
    for r in ws.iter_rows(min_row=2, min_col=2, max_col=13):
        for cell in r:
            if cell.value in FILL:
                cell.fill = PatternFill("solid", fgColor=FILL[cell.value])
    for name, (header, rows) in sheets(report).items():
        _sheet(wb, name, header, rows, [44] + [16] * (len(header) - 1))

    text = []
    for area in report["malomraden"]:
        for label, key in (("Viktiga händelser", "viktiga_handelser"), ("Åtgärder", "atgarder")):
            text.append([f"{area['nummer']}. {area['namn']}", label, area[key] or PLACEHOLDER])
        if area["skal"]:
            text.append([f"{area['nummer']}. {area['namn']}", "Skäl till bedömningen", area["skal"]])
    text.append(["Ekonomi", "Avvikelse mot budget", report["ekonomi"]["kommentar"] or PLACEHOLDER])
    text.append(["", "Risker", report["risker"] or PLACEHOLDER])
    ws = _sheet(wb, "Text", ["Målområde", "Avsnitt", "Text"], text, [40, 22, 110])
    for r in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        for cell in r:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if changes:
        _sheet(wb, "Ändringar", ["Uppgift", "Före", "Efter"],
               [[c["uppgift"], c["fore"], c["efter"]] for c in changes], [70, 18, 18])
    wb.save(str(target))
    return Path(target)
