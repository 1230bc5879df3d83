"""Small-count suppression for published board figures (DOMAIN.md, "Privacy and secrecy").

Primary: a count ``0 < n < below`` (default 5) is shown as ``<5``.
Secondary: in a table with row and column totals, a hidden cell must not be derivable as a
total minus the visible cells. Every row and every column (the totals row and column
included) is a line ``cells = total``; while some line has exactly one hidden member, the
smallest visible non-zero cell of that line is hidden as well (``..``), or the line's total
when no such cell is left. Repeated until no line has a single hidden member. Zero is shown:
"nobody" is not a small count of persons.
"""
from __future__ import annotations

from dataclasses import dataclass

SMALL = "<5"  # the marker when below == 5; see marker()
SECONDARY = ".."  # hidden so that a "<5" cell cannot be derived back
TOTAL = "Totalt"


def marker(below: int) -> str:
    return f"<{below}"


def is_small(n: float | int | None, below: int = 5) -> bool:
    return isinstance(n, (int, float)) and not isinstance(n, bool) and 0 < n < below


def count(n: int | float | None, below: int = 5) -> int | float | str | None:
    """One published count: the value itself, or ``<5`` when it is 1..4."""
    return marker(below) if is_small(n, below) else n


@dataclass
class Table:
    """A counts table with totals, after suppression: every shown value is an int or a marker."""

    rows: list[str]
    columns: list[str]
    values: dict[tuple[str, str], int]  # the true counts (never published)
    shown: dict[tuple[str, str], int | str]  # cells and totals as published; TOTAL row/column included
    primary: set[tuple[str, str]]
    secondary: set[tuple[str, str]]

    def cell(self, row: str, column: str) -> int | str:
        return self.shown[(row, column)]

    def as_rows(self) -> list[list[int | str]]:
        """``[[row name, cell, ..., total], ..., ["Totalt", ..., grand total]]``."""
        out = []
        for row in [*self.rows, TOTAL]:
            out.append([row, *(self.shown[(row, c)] for c in [*self.columns, TOTAL])])
        return out


def suppress_table(counts: dict[str, dict[str, int]], columns: list[str] | None = None, below: int = 5) -> Table:
    """``counts[row][column]`` → a :class:`Table` with totals and both kinds of suppression."""
    rows = list(counts)
    if columns is None:
        columns = sorted({c for cells in counts.values() for c in cells})
    values: dict[tuple[str, str], int] = {}
    for r in rows:
        for c in columns:
            values[(r, c)] = int(counts[r].get(c, 0))
        values[(r, TOTAL)] = sum(values[(r, c)] for c in columns)
    for c in [*columns, TOTAL]:
        values[(TOTAL, c)] = sum(values[(r, c)] for r in rows)

    hidden = {key for key, v in values.items() if is_small(v, below)}
    primary = set(hidden)
    # Lines: (cells, total) pairs; each says sum(cells) == total.
    lines = [([(r, c) for c in columns], (r, TOTAL)) for r in [*rows, TOTAL]]
    lines += [([(r, c) for r in rows], (TOTAL, c)) for c in [*columns, TOTAL]]
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            members = [*cells, total]
            if sum(1 for m in members if m in hidden) != 1:
                continue
            candidates = [m for m in cells if m not in hidden and values[m] > 0]
            if candidates:
                pick = min(candidates, key=lambda m: (values[m], rows.index(m[0]) if m[0] in rows else len(rows),
                                                       columns.index(m[1]) if m[1] in columns else len(columns)))
            elif total not in hidden:
                pick = total
            else:  # the only hidden member is a cell and every other cell is 0 or hidden: nothing to pick
                continue
            hidden.add(pick)
            changed = True
    shown: dict[tuple[str, str], int | str] = {}
    for key, v in values.items():
        if key in primary:
            shown[key] = marker(below)
        elif key in hidden:
            shown[key] = SECONDARY
        else:
            shown[key] = v
    return Table(rows, columns, values, shown, primary, hidden - primary)
