"""Small-number suppression for tables that share totals (the council's statistics).

The council page publishes two tables over the same persons: by intervention and sex, and by
time waited and sex; both end in the same totals row. A hidden cell must not be derivable from
any shown value of either table, so suppression runs over the *lines* of both at once (every
row and every column, totals included, says ``sum(cells) == total``), with the board's rule
(``services/snapshot/suppress.py``): primary ``0 < n < below`` shown ``<5``; while some line
has exactly one hidden member, its smallest visible non-zero cell (else its total) is hidden as
well (``..``). ``tests/unit/services/test_ivo_council.py`` proves with a linear programme
(scipy's HiGHS) that no hidden cell is pinned by what is shown.
"""
from __future__ import annotations

from dataclasses import dataclass

TOTAL = "totalt"
SECONDARY = ".."


def marker(below: int) -> str:
    return f"<{below}"


@dataclass
class Grid:
    """A table with row and column totals; ``name`` prefixes its keys. The totals row is shared
    between tables of the same ``columns`` (it sums the same persons)."""

    name: str
    rows: list[str]
    columns: list[str]
    counts: dict[str, dict[str, int]]

    def key(self, row: str, column: str) -> tuple[str, str, str]:
        return ("*" if row == TOTAL else self.name, row, column)


@dataclass
class Suppressed:
    values: dict[tuple, int]  # true counts (never published)
    shown: dict[tuple, int | str]
    primary: set[tuple]
    secondary: set[tuple]
    lines: list[tuple[list[tuple], tuple]]

    def table(self, grid: Grid) -> list[list]:
        """``[[row, cell, ..., total], ..., ["totalt", ..., grand total]]`` as published."""
        return [[row, *(self.shown[grid.key(row, c)] for c in [*grid.columns, TOTAL])]
                for row in [*grid.rows, TOTAL]]


def suppress(grids: list[Grid], below: int = 5) -> Suppressed:
    values: dict[tuple, int] = {}
    lines: list[tuple[list[tuple], tuple]] = []
    for g in grids:
        for r in g.rows:
            for c in g.columns:
                values[g.key(r, c)] = int(g.counts.get(r, {}).get(c, 0))
            values[g.key(r, TOTAL)] = sum(values[g.key(r, c)] for c in g.columns)
            lines.append(([g.key(r, c) for c in g.columns], g.key(r, TOTAL)))
        for c in [*g.columns, TOTAL]:
            total = sum(values[g.key(r, c)] for r in g.rows)
            if values.setdefault(g.key(TOTAL, c), total) != total:
                raise ValueError(f"tables sharing totals disagree in column {c}")
            lines.append(([g.key(r, c) for r in g.rows], g.key(TOTAL, c)))
        lines.append(([g.key(TOTAL, c) for c in g.columns], g.key(TOTAL, TOTAL)))
    lines = list({(tuple(cells), total): None for cells, total in lines})  # the shared totals line once
    lines = [(list(cells), total) for cells, total in lines]
    order = {key: i for i, key in enumerate(values)}
    primary = {k for k, v in values.items() if 0 < v < below}
    hidden = set(primary)
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            if sum(1 for m in [*cells, total] if m in hidden) != 1:
                continue
            candidates = [m for m in cells if m not in hidden and values[m] > 0]
            if candidates:
                pick = min(candidates, key=lambda m: (values[m], order[m]))
            elif total not in hidden:
                pick = total
            else:
                continue  # the hidden total's other cells are all 0: it is the sum of zeros and a hidden one
            hidden.add(pick)
            changed = True
    shown = {k: marker(below) if k in primary else SECONDARY if k in hidden else v for k, v in values.items()}
    return Suppressed(values, shown, primary, hidden - primary, lines)
