"""Text in the spreadsheets casewatch writes (CSV and XLSX) stays text: no cell is ever a formula.

Case ids and decision ids come from the case systems, the board's text from the office; a case
id ``=HYPERLINK("https://…?"&A1;"Öppna")`` or a risk written as ``=1+1`` would otherwise be a
live formula when the IVO reporter or a board member opens the file in Excel (CSV/formula
injection: a formula can send other cells' contents away or start a program through DDE).

- XLSX: openpyxl stores any string starting with ``=`` as a formula; :func:`append_row` stores
  it as a string instead, so the cell shows exactly what was written.
- CSV has no types: a spreadsheet reads a text cell starting with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return as a formula, so :func:`csv_cell` puts an apostrophe before it
  (OWASP's advice; Excel shows the text without it). Numbers stay numbers.
"""
from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` for a CSV cell: text a spreadsheet would run gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]


def append_row(ws, values) -> None:
    """``ws.append(values)`` with every text cell stored as text, never as a formula."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"
