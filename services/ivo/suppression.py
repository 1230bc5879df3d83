"""Small-number suppression of the council's statistics, with the board's disclosure control.

The council page publishes two tables over the same persons: by intervention and sex, and by
time waited (without sex: fewer links between the tables, so fewer cells hidden), sharing the
grand total. Each published count is a
``services/snapshot/disclosure.py`` :class:`Cell` over *atoms*, the persons counted per
(intervention, time waited, sex), so the linear programme that decides the complementary
suppression sees how the two tables hang together (issue 16's module, reused as it is).
Primary: ``0 < n < below`` shown ``<5``; complementary: ``..`` until no hidden count is
pinned or narrowed below the protection width by what is shown.
``tests/unit/services/test_ivo_council.py`` audits the result with an independent LP.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.snapshot.disclosure import Cell, Published, protect

TOTAL = "totalt"


@dataclass
class Grid:
    """A table of ``rows`` x ``columns`` with totals; ``dimension`` says which part of an atom
    (``0``: intervention, ``1``: time waited) its rows are."""

    name: str
    rows: list[str]
    columns: list[str]
    dimension: int


@dataclass
class Suppressed:
    counts: dict[tuple[str, str, str], int]  # atoms: (intervention, time waited, sex) -> persons
    cells: list[Cell]
    published: Published
    below: int

    def table(self, grid: Grid) -> list[list]:
        """``[[row, cell, ..., total], ..., ["totalt", ..., grand total]]`` as published."""
        return [[row, *(self.published.shown(key(grid, row, c), self.below) for c in [*grid.columns, TOTAL])]
                for row in [*grid.rows, TOTAL]]


def key(grid: Grid, row: str, column: str) -> str:
    return f"totalt/{column}" if row == TOTAL else f"{grid.name}/{row}/{column}"


def atom(parts: tuple[str, str, str]) -> str:
    return "|".join(parts)


def cells_of(counts: dict[tuple[str, str, str], int], grids: list[Grid]) -> list[Cell]:
    """Every published count as a cell over its atoms; the shared totals row once."""
    out: dict[str, Cell] = {}
    for grid in grids:
        for row in [*grid.rows, TOTAL]:
            for column in [*grid.columns, TOTAL]:
                members = [p for p in counts
                           if (row == TOTAL or p[grid.dimension] == row) and (column == TOTAL or p[2] == column)]
                k = key(grid, row, column)
                if k not in out:
                    out[k] = Cell.of(k, sum(counts[p] for p in members), (atom(p) for p in members))
    return list(out.values())


def suppress(counts: dict[tuple[str, str, str], int], grids: list[Grid], below: int = 5) -> Suppressed:
    """``counts`` must hold every (intervention, time waited, sex) of the grids, zeros included:
    a shown 0 then tells the programme that its atoms are 0."""
    cells = cells_of(counts, grids)
    return Suppressed(counts, cells, protect(cells, below), below)
