"""The council's statistics (SoL 16 kap. 6 h §): the tables agree with §6's statistics, and an
independent linear programme (scipy's HiGHS over the persons per intervention, time waited and
sex) proves that no suppressed count can be narrowed to fewer than three values from what the
page shows, on the hand-worked quarter and on many random quarters."""
from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.optimize import linprog

from services.ivo.quarter import council_suppressed, council_tables, report_from_replay
from services.ivo.suppression import TOTAL, Grid, suppress
from streams.core.ivo import SEXES, WAIT_BANDS, Quarter
from streams.core.replay import Replay
from tests.events import line
from tests.unit.services.test_ivo_quarters import EVENTS


def intervals(counts: dict, grids: list[Grid], tables: list[list[list]], below: int) -> dict:
    """What an attacker learns: each hidden count's least and greatest value, given every shown
    value of ``tables`` (``<5`` as 1..below-1, ``..`` as unknown) and persons >= 0."""
    atoms = list(counts)
    a_ub, b_ub, a_eq, b_eq, hidden = [], [], [], [], []
    for grid, table in zip(grids, tables):
        for row in table:
            for column, shown in zip([*grid.columns, TOTAL], row[1:]):
                member = np.array([1.0 if (row[0] == TOTAL or p[grid.dimension] == row[0])
                                   and (column == TOTAL or p[2] == column) else 0.0 for p in atoms])
                if isinstance(shown, int):
                    a_eq.append(member)
                    b_eq.append(shown)
                    continue
                hidden.append(((grid.name, row[0], column), member, shown))
                if shown.startswith("<"):
                    a_ub += [member, -member]
                    b_ub += [below - 1, -1]
    out = {}
    for name, member, shown in hidden:
        ends = []
        for sign in (1, -1):
            res = linprog(sign * member, A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None,
                          A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None, bounds=(0, None), method="highs")
            assert res.status in (0, 3), res.message
            ends.append(np.inf if res.status == 3 else sign * res.fun)
        out[name] = (shown, ends[0], ends[1])
    return out


def assert_protected(counts, grids, tables, below=5):
    for name, (shown, low, high) in intervals(counts, grids, tables, below).items():
        if shown != "..":
            assert high - low >= 2 - 1e-6, (name, shown, low, high, tables)


def test_the_hand_worked_quarter_agrees_with_the_json_and_is_protected():
    replay = Replay()
    replay.add_lines(line(e) for e in EVENTS)
    report = report_from_replay(replay, Quarter(2024, 2))
    tables = council_tables(report, 5)
    by_row = {row[0]: row[1:] for row in tables["insats"]}
    for intervention, sexes in report.statistics.items():
        for sex, shown in zip(SEXES, by_row[intervention]):
            assert shown == sexes[sex] if shown not in ("<5", "..") else sexes[sex] < 5 or shown == ".."
    # Four persons wait at E (kvinna 1, man 2, okänt 1): the page must not let "man" be
    # pinned at 2 and "kvinna" at 1 through the "<5" grand total.
    result, grids = council_suppressed(report, 5)
    assert_protected(result.counts, grids, [result.table(g) for g in grids])
    assert tables["vantetid"][-1][-1] == tables["insats"][-1][-1]  # one shared grand total


def test_the_audit_catches_primary_suppression_alone():
    """The audit can fail: with "<5" alone (no complementary ".."), a small count comes back."""
    replay = Replay()
    replay.add_lines(line(e) for e in EVENTS)
    result, grids = council_suppressed(report_from_replay(replay, Quarter(2024, 2)), 5)
    naive = [[[row[0], *("<5" if isinstance(v, str) else v for v in row[1:])] for row in result.table(g)] for g in grids]
    for table, grid in zip(naive, grids):  # put back the true values of the ".." cells
        for row in table:
            for i, column in enumerate([*grid.columns, TOTAL], start=1):
                if row[i] == "<5":
                    true = sum(n for p, n in result.counts.items() if (row[0] == TOTAL or p[grid.dimension] == row[0])
                               and (column == TOTAL or p[2] == column))
                    row[i] = "<5" if 0 < true < 5 else true
    with pytest.raises(AssertionError):
        assert_protected(result.counts, grids, naive)


def _random_counts(rng: random.Random, n: int) -> dict:
    interventions = ["a", "b", "c", "d"]
    counts = {(i, b, s): 0 for i in interventions for b in WAIT_BANDS for s in SEXES}
    for _ in range(n):
        p = (rng.choice(interventions), rng.choices(WAIT_BANDS, [6, 3, 1])[0], rng.choices(SEXES, [5, 5, 1])[0])
        counts[p] += 1
    return counts


def test_large_counts_are_shown_and_the_tables_add_up():
    counts = _random_counts(random.Random(3), 400)
    grids = [Grid("insats", ["a", "b", "c", "d"], list(SEXES), 0), Grid("vantetid", list(WAIT_BANDS), [], 1)]
    result = suppress(counts, grids, 5)
    table = result.table(grids[0])
    assert table[-1][-1] == 400
    shown = [v for row in table for v in row[1:] if isinstance(v, int)]
    assert len(shown) > 10  # suppression is not "hide everything"
    for row in table[:-1]:
        cells = [sum(n for p, n in counts.items() if p[0] == row[0] and p[2] == s) for s in SEXES]
        assert [v if isinstance(v, int) else c for v, c in zip(row[1:4], cells)] == cells


@pytest.mark.parametrize("seed", range(20))
def test_random_quarters_never_expose_a_small_count(seed):
    rng = random.Random(seed)
    counts = _random_counts(rng, rng.randint(1, 70))
    grids = [Grid("insats", ["a", "b", "c", "d"], list(SEXES), 0), Grid("vantetid", list(WAIT_BANDS), [], 1)]
    result = suppress(counts, grids, 5)
    assert_protected(counts, grids, [result.table(g) for g in grids])
