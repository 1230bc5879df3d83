"""The report's tables as a workbook (openpyxl): one sheet per table, published values only.

Numbers are stored as numbers with a thousands format (Excel shows them with the reader's
own separators, Swedish ``4 458`` in a Swedish Excel); suppressed cells are the text ``<5``
or ``..``. The unsuppressed figures are only in ``snapshot.json``.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from services.swedish import MONTHS_SHORT

from . import narrative
from .labels import INTERVENTIONS_SV, PLACEMENT_TYPES_SV
from .render_html import COLOUR_WORD, TREND_WORD, format_indicator
from .suppress import TOTAL, count

FILL = {"grön": "FF2E7D32", "gul": "FFF9C80E", "röd": "FFC62828"}
BOLD = Font(bold=True)


def _sheet(wb, title: str, header: list[str], rows: list[list], widths: list[int] | None = None):
    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        ws.append(row)
    for i, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    return ws


def render_xlsx(document: dict, target: Path) -> Path:
    content, meta = document["content"], document["meta"]
    below = content["regler"]["undertryck_under"]
    year = int(content["manad"][:4])
    wb = Workbook()
    info = wb.active
    info.title = "Rapport"
    for row in (
        ["Månadsuppföljning", content["manad"]], ["Nämnd", content["namnd"]], ["Kommun", content["kommun"]],
        ["Läget per", content["as_of"]], ["Revision", meta.get("revision", 1)], ["Ersätter", meta.get("ersatter") or "–"],
        ["Fryst", meta.get("skapad", "")], ["Senaste händelse", meta.get("data_till_och_med")],
    ):
        info.append(row)
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 40

    grid_rows = []
    for area in content["malomraden"]:
        row = [f"{area['nummer']}. {area['namn']}"]
        for m in range(1, 13):
            mark = area["manader"].get(f"{year}-{m:02d}")
            row.append("" if mark is None else COLOUR_WORD[mark["farg"]])
        row.append(TREND_WORD[area["trend"]])
        grid_rows.append(row)
    ws = _sheet(wb, "Måluppfyllelse", ["Målområde", *MONTHS_SHORT, "Trend"], grid_rows, [48] + [7] * 12 + [18])
    for r in ws.iter_rows(min_row=2, min_col=2, max_col=13):
        for cell in r:
            colour = {"Grön": "grön", "Gul": "gul", "Röd": "röd"}.get(cell.value or "")
            if colour:
                cell.fill = PatternFill("solid", fgColor=FILL[colour])

    ind_rows = []
    for area in content["malomraden"]:
        for ind in area["indikatorer"]:
            value = format_indicator(ind["varde"], ind["format"], below, ind["bas"])
            ind_rows.append([area["nummer"], ind["namn"], ind["mal"], value.replace("\u00a0", " "),
                             COLOUR_WORD[ind["farg"]]])
    _sheet(wb, "Nyckeltal", ["Mål", "Indikator", "Målvärde", "Utfall", "Bedömning"], ind_rows, [6, 70, 12, 14, 12])

    econ_rows = []
    for row in [*content["ekonomi"]["verksamheter"], content["ekonomi"]["resultat"]]:
        econ_rows.append([row["namn"], round(-row["utfall_ack"] / 1000), round(-row["budget_ack"] / 1000),
                          round(row["avvikelse_ack"] / 1000), round(-row["arsprognos"] / 1000),
                          round(-row["arsbudget"] / 1000), round(row["avvikelse_ar"] / 1000),
                          round(row["avvikelse_mot_foregaende_ar"] / 1000), round(-row["foregaende_ar"] / 1000),
                          COLOUR_WORD[row["farg"]]])
    ws = _sheet(wb, "Ekonomi", ["Nettokostnad per verksamhet, tkr", "Utfall ack.", "Budget ack.", "Avvikelse ack.",
                                "Årsprognos", "Årsbudget", "Avvikelse", f"Avvikelse mot {year - 1}",
                                f"Utfall {year - 1}", "Bedömning"], econ_rows, [34] + [14] * 9)
    for r in ws.iter_rows(min_row=2, min_col=2, max_col=9):
        for cell in r:
            cell.number_format = "#,##0"
    ws.cell(row=len(econ_rows) + 3, column=1, value=content["ekonomi"]["metod"])

    units = [u for u in sorted(content["figures"]) if content["figures"][u]["placements_active"]]
    pl_rows = [["Totalt" if r[0] == TOTAL else PLACEMENT_TYPES_SV.get(r[0], r[0]), *(count(v, below) for v in r[1:])]
               for r in content["placeringar_tabell"]]
    _sheet(wb, "Placeringar", ["Placeringsform", *units, "Totalt"], pl_rows, [24] + [10] * (len(units) + 1))

    ivo_rows = [["Totalt" if r[0] == TOTAL else INTERVENTIONS_SV.get(r[0], r[0]), *(count(v, below) for v in r[1:])]
                for r in content["ivo"]["publicerad"]]
    _sheet(wb, "Ej verkställda beslut", ["Insats", "Väntat högst 3 månader", "Väntat mer än 3 månader", "Totalt"],
           ivo_rows, [24, 22, 24, 10])

    text_rows = [[section, narrative.to_text(content["berattelse"].get(section))] for section in narrative.SECTIONS]
    ws = _sheet(wb, "Kommentarer", ["Avsnitt", "Text"], text_rows, [20, 120])
    for r in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in r:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    if meta.get("revision", 1) > 1:
        from .render_html import change_label, change_value

        changed = [[change_label(c["falt"], content), change_value(c["falt"], c["fore"], below).replace("\u00a0", " "),
                    change_value(c["falt"], c["efter"], below).replace("\u00a0", " ")]
                   for c in meta.get("andringar", []) if not c["falt"].startswith(("diagram/", "underlag/"))]
        # every change, the units' included: the workbook is the full list
        _sheet(wb, "Ändringar", ["Uppgift", "Före", "Efter"], changed, [70, 18, 18])
    wb.save(str(target))
    return Path(target)
