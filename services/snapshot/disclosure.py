"""Suppression that holds across a whole report (and the report of the month before).

Every count the report publishes, in a table, a chart or an indicator, is a :class:`Cell`: its
true value and the *atoms* it sums (e.g. the placements of one type in one unit at one
month's end, or the reports received on one day). Two cells that share atoms are linked: a
chart bar minus a table cell, or a total minus the shown cells, may give a hidden cell back.

* Primary: a count ``0 < n < below`` is hidden (shown ``<5``).
* Complementary: linear programming (HiGHS) computes, given everything that
  is published (shown values exactly, ``<5`` as 1..below-1, ``..`` as unknown, all atoms
  >= 0), the least and the greatest value each hidden cell can take. While some hidden cell
  is pinned or confined to an interval narrower than :func:`protection_width` (2 for
  ``<5``: at least three possible counts), a shown neighbour under a common total is hidden
  as well (``..``); a ``<5`` on a total of small parts becomes ``..`` (its parts are each
  at least 1, so the marker alone narrows them).
* The audit (:func:`audit`) is the same computation; the tests run it on every report of a
  simulated year together with the report of the month before.

The relaxation to real numbers gives an interval at least as wide as the integer one in
general; for the table-and-margin structures published here the bounds are integral.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import os
import sys

import highspy
import numpy as np

PRIMARY, SECONDARY = "primary", "secondary"


@dataclass(frozen=True)
class Cell:
    key: str  # unique within a report, e.g. "placeringar/hvb/bou-1"
    value: int
    atoms: tuple[str, ...]  # what it sums (each once)

    @classmethod
    def of(cls, key: str, value: int, atoms) -> "Cell":
        return cls(key, int(value), tuple(sorted(set(atoms))))


@dataclass(frozen=True)
class Exposure:
    key: str
    low: float
    high: float


@dataclass
class Published:
    """Cells and which of them are hidden (key -> PRIMARY | SECONDARY)."""

    cells: dict[str, Cell]
    hidden: dict[str, str] = field(default_factory=dict)

    def shown(self, key: str, below: int):
        kind = self.hidden.get(key)
        if kind == PRIMARY:
            return f"<{below}"
        if kind == SECONDARY:
            return ".."
        return self.cells[key].value


def components(cells: list[Cell]) -> list[list[Cell]]:
    """Cells grouped by shared atoms (two cells are linked when any atom joins them)."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for c in cells:
        for a in c.atoms[1:]:
            parent[find(a)] = find(c.atoms[0])
    groups: dict[str, list[Cell]] = {}
    for c in cells:
        groups.setdefault(find(c.atoms[0]), []).append(c)
    return list(groups.values())


_SOLVER: list = []


def _solver():
    """One HiGHS instance, cleared for each model; made with stdout closed, since HiGHS greets
    on the process's standard output when constructed (and the commands' output is read)."""
    if not _SOLVER:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                solver = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        solver.setOptionValue("output_flag", False)
        _SOLVER.append(solver)
    _SOLVER[0].clearModel()
    return _SOLVER[0]


def _component_intervals(cells: list[Cell], hidden: dict[str, str], below: int, targets: list[str]
                         ) -> dict[str, tuple[float, float]]:
    """One HiGHS model per group of linked cells; each target's min and max by changing the
    objective only (the solver restarts from the last basis)."""
    atoms = sorted({a for c in cells for a in c.atoms})
    index = {a: i for i, a in enumerate(atoms)}
    n = len(atoms)
    h = _solver()
    inf = highspy.kHighsInf
    h.addVars(n, np.zeros(n), np.full(n, inf))
    for c in cells:
        kind = hidden.get(c.key)
        if kind == SECONDARY:
            continue  # ".." says nothing
        lo, hi = (1.0, below - 1.0) if kind == PRIMARY else (float(c.value), float(c.value))
        cols = np.array(sorted(index[a] for a in c.atoms), dtype=np.int32)
        h.addRow(lo, hi, len(cols), cols, np.ones(len(cols)))
    by_key = {c.key: c for c in cells}
    out = {}
    for key in targets:
        cost = np.zeros(n)
        for a in by_key[key].atoms:
            cost[index[a]] = 1.0
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        bounds = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            h.changeObjectiveSense(sense)
            h.run()
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                bounds.append(h.getInfo().objective_function_value)
            elif status == highspy.HighsModelStatus.kUnbounded or (
                    sense == highspy.ObjSense.kMaximize and status == highspy.HighsModelStatus.kUnboundedOrInfeasible):
                bounds.append(float("inf"))
            else:
                raise ValueError(f"the published figures are inconsistent ({h.modelStatusToString(status)})")
        out[key] = (bounds[0], bounds[1])
    return out


def intervals(cells: list[Cell], hidden: dict[str, str], below: int, only: list[str] | None = None
              ) -> dict[str, tuple[float, float]]:
    """``{key: (min, max)}`` of each hidden cell (or of ``only``) given what is published."""
    wanted = set(only if only is not None else hidden)
    out = {}
    for group in components(cells):
        targets = sorted({c.key for c in group} & wanted)
        if not targets:
            continue
        if len({a for c in group for a in c.atoms}) == 1 and all(c.key in hidden for c in group):
            # one atom, never shown: only its own marker speaks about it
            primary = any(hidden.get(c.key) == PRIMARY for c in group)
            out.update({k: (1.0, below - 1.0) if primary else (0.0, float("inf")) for k in targets})
            continue
        out.update(_component_intervals(group, hidden, below, targets))
    return out


def protection_width(below: int) -> float:
    """The least width of a hidden cell's interval: for ``<5`` two (at least three possible
    counts of the four the marker allows)."""
    return max(below - 3, 1)


def audit(cells: list[Cell], hidden: dict[str, str], below: int, width: float | None = None) -> list[Exposure]:
    """Hidden cells pinned to one value or confined to an interval narrower than ``width``."""
    width = protection_width(below) if width is None else width
    return [Exposure(k, lo, hi) for k, (lo, hi) in intervals(cells, hidden, below).items() if hi - lo < width - 1e-6]


def _siblings(exposed: Cell, group: list[Cell]) -> list[Cell]:
    """Cells that share a total with ``exposed`` but none of its atoms: hiding one of them
    gives the total's equation a second unknown (a row or column neighbour in a table)."""
    atoms = set(exposed.atoms)
    totals = [c for c in group if atoms < set(c.atoms)]
    around = {a for t in totals for a in t.atoms} - atoms
    return [c for c in group if set(c.atoms) <= around]


def protect(cells: list[Cell], below: int, context: list[Cell] = (), context_hidden: dict[str, str] | None = None,
            width: float | None = None) -> Published:
    """Primary and complementary suppression of ``cells``; ``context`` (e.g. last month's
    report, already published) is taken as it stands and only constrains."""
    # the context's keys are its own (the same table of another month has the same keys)
    context = [Cell(f"sammanhang:{c.key}", c.value, c.atoms) for c in context]
    context_hidden = {f"sammanhang:{k}": v for k, v in (context_hidden or {}).items()}
    width = protection_width(below) if width is None else width
    own = {c.key: c for c in cells}
    hidden = {c.key: PRIMARY for c in cells if 0 < c.value < below}
    for group in components([*cells, *context]):
        keys = {c.key for c in group}
        if not any(k in hidden or k in context_hidden for k in keys):
            continue
        while True:
            state = {k: v for k, v in {**context_hidden, **hidden}.items() if k in keys}
            exposed = [Exposure(k, lo, hi) for k, (lo, hi) in intervals(group, state, below).items()
                       if hi - lo < width - 1e-6]
            if not exposed:
                break
            by_key = {c.key: c for c in group}
            pick = None
            for exp in exposed:
                cell = by_key[exp.key]
                mine = [c for c in group if c.key in own and c.key not in hidden and c.value > 0]
                near = [c for c in _siblings(cell, group) if c in mine]
                if near:
                    pick = min(near, key=lambda c: (len(c.atoms), c.value, c.key))
                    break
                # a "<5" on a total of small cells says too much (each part >= 1): show ".." instead
                marked = [c for c in group if hidden.get(c.key) == PRIMARY and set(cell.atoms) <= set(c.atoms)
                          and len(c.atoms) > 1]
                if marked:
                    pick = max(marked, key=lambda c: (len(c.atoms), c.key))
                    break
                linked = [c for c in mine if set(cell.atoms) & set(c.atoms)]
                if linked:
                    pick = min(linked, key=lambda c: (len(c.atoms), c.value, c.key))
                    break
            if pick is None:
                # nothing linked is left to hide: the rest of the group's shown counts go too
                rest = [c for c in group if c.key in own and c.key not in hidden and c.value > 0]
                if not rest:
                    break  # the exposure lies in the context alone
                for c in rest:
                    hidden[c.key] = SECONDARY
                continue
            hidden[pick.key] = SECONDARY
    return Published(own, hidden)
