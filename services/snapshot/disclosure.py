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
  ``<5``: at least three possible counts), the shown count that costs least (the smallest;
  a chart bar and a table cell of the same atoms go together) and protects it is hidden as
  well (``..``); a ``<5`` on a total of small parts may become ``..`` (its parts are each at
  least 1, so the marker alone narrows them). Then each complement is tried shown again,
  largest first, and stays shown when nothing becomes exposed: a large figure is hidden
  only when no smaller one does.
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


def _cost(cells: list[Cell]) -> tuple:
    """What hiding ``cells`` costs the reader: the counts withheld (a large figure costs more
    than a small one), then how many figures, then a stable order."""
    return (sum(c.value for c in cells), len(cells), min(c.key for c in cells))


def _twins(cell: Cell, cells: list[Cell]) -> list[Cell]:
    """``cell`` and every cell summing exactly the same atoms (a chart bar equal to a table
    total): hiding one and showing the other would hide nothing."""
    return [c for c in cells if c.atoms == cell.atoms]


def _exposed(group: list[Cell], state: dict[str, str], below: int, width: float) -> list[Exposure]:
    return [Exposure(k, lo, hi) for k, (lo, hi) in intervals(group, state, below).items() if hi - lo < width - 1e-6]


def _width(group: list[Cell], state: dict[str, str], below: int, key: str) -> float:
    lo, hi = intervals(group, state, below, only=[key])[key]
    return hi - lo


def _complement(group: list[Cell], state, options: list[list[Cell]], exposed: list[Exposure], below: int,
                width: float) -> list[Cell] | None:
    """The cells to hide next: the cheapest option that protects some exposed cell on its own;
    else the one that widens an exposed interval most per count withheld; else the cheapest
    pair of options that widens one (two equations may pin a cell together)."""
    def widened(hide: list[Cell], target: Exposure) -> float:
        return _width(group, state({c.key: SECONDARY for c in hide}), below, target.key) - (target.high - target.low)

    best, best_rate = None, 0.0
    for target in exposed:
        for option in options:  # sorted by cost: the first that protects is the cheapest
            gain = widened(option, target)
            if target.high - target.low + gain >= width - 1e-6:
                return option
            rate = gain / max(_cost(option)[0], 1)
            if gain > 1e-6 and rate > best_rate:
                best, best_rate = option, rate
    if best is not None:
        return best
    pairs = sorted(((a, b) for i, a in enumerate(options) for b in options[i + 1:]), key=lambda p: _cost([*p[0], *p[1]]))
    for target in exposed:
        for a, b in pairs:
            if widened([*a, *b], target) > 1e-6:
                return [*a, *b]
    return None


def protect(cells: list[Cell], below: int, context: list[Cell] = (), context_hidden: dict[str, str] | None = None,
            width: float | None = None) -> Published:
    """Primary and complementary suppression of ``cells``; ``context`` (e.g. last month's
    report, already published) is taken as it stands and only constrains.

    The complement is chosen to withhold as little as possible: while a hidden cell is exposed,
    the cheapest of this report's shown counts (by :func:`_cost`, so small cells before large
    ones) whose hiding protects it is hidden; when no single count does, the one that widens its
    interval most per count withheld, or the cheapest pair that widens it; when nothing does,
    every shown count of its group. Afterwards every complementary cell is tried shown again,
    largest first, and stays shown when nothing becomes exposed by it."""
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
        mine = [c for c in group if c.key in own]

        def state(extra: dict[str, str] = {}) -> dict[str, str]:
            return {k: v for k, v in {**context_hidden, **hidden, **extra}.items() if k in keys}

        def options() -> list[list[Cell]]:
            """Shown counts (with their twins), and "<5" on totals of several atoms, which may
            become ".." (each part being at least 1, the marker alone narrows them)."""
            out, seen = [], set()
            for c in mine:
                if c.atoms in seen or (c.key in hidden and not (hidden[c.key] == PRIMARY and len(c.atoms) > 1)):
                    continue
                if c.key not in hidden and c.value <= 0:
                    continue
                seen.add(c.atoms)
                out.append([t for t in _twins(c, mine) if t.key not in hidden or hidden[t.key] == PRIMARY])
            return sorted(out, key=_cost)

        unfixable: set[str] = set()
        while True:
            exposed = [e for e in _exposed(group, state(), below, width) if e.key not in unfixable]
            if not exposed:
                break
            chosen = _complement(group, state, options(), exposed, below, width)
            if chosen is None:
                rest = [c for option in options() for c in option]
                if rest and any(e.key in own for e in exposed):
                    # three or more counts pin it together: hide them all, the pass below
                    # shows again what is not needed
                    chosen = rest
                else:
                    # no count of this report can widen them: they are exposed by the context alone
                    unfixable.update(e.key for e in exposed)
                    continue
            for c in chosen:
                hidden[c.key] = SECONDARY
        # show again what turned out not to be needed, the largest counts first
        baseline = {e.key for e in _exposed(group, state(), below, width)}
        complements = [c for c in mine if hidden.get(c.key) == SECONDARY]
        for c in sorted(complements, key=lambda c: (-c.value, c.key)):
            if hidden.get(c.key) != SECONDARY:
                continue
            twins = [t for t in _twins(c, mine) if hidden.get(t.key) == SECONDARY]
            restored = {t.key: (PRIMARY if 0 < t.value < below else None) for t in twins}
            trial = {k: v for k, v in hidden.items() if k not in restored}
            trial.update({k: v for k, v in restored.items() if v})
            trial_state = {k: v for k, v in {**context_hidden, **trial}.items() if k in keys}
            if {e.key for e in _exposed(group, trial_state, below, width)} <= baseline:
                hidden = trial
    return Published(own, hidden)
