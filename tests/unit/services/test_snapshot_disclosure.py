"""Complementary suppression that withholds as little as possible: small complements before
large ones, no group hidden wholesale, and still nothing a reader can narrow below three
possible counts (checked by the product's own audit here; the year-long audit with an
independent solver is in test_snapshot_publication.py)."""
from __future__ import annotations

from services.snapshot.disclosure import PRIMARY, SECONDARY, Cell, audit, protect

BELOW = 5


def table(name: str, counts: dict[tuple[str, str], int], bars: dict[str, tuple[str, ...]] = {}) -> list[Cell]:
    """A type x activity table with row, column and grand totals, and chart bars summing whole
    rows (like "Familjehem" = family homes of three kinds)."""
    rows = sorted({r for r, _ in counts})
    cols = sorted({c for _, c in counts})
    atom = {(r, c): f"{name}|{r}|{c}" for r in rows for c in cols}
    cells = [Cell.of(f"{name}/{r}/{c}", counts.get((r, c), 0), [atom[(r, c)]]) for r in rows for c in cols]
    cells += [Cell.of(f"{name}/{r}/Totalt", sum(counts.get((r, c), 0) for c in cols), [atom[(r, c)] for c in cols])
              for r in rows]
    cells += [Cell.of(f"{name}/Totalt/{c}", sum(counts.get((r, c), 0) for r in rows), [atom[(r, c)] for r in rows])
              for c in cols]
    cells.append(Cell.of(f"{name}/Totalt/Totalt", sum(counts.values()), list(atom.values())))
    cells += [Cell.of(f"{name}-diagram/{bar}", sum(counts.get((r, c), 0) for r in group for c in cols),
                      [atom[(r, c)] for r in group for c in cols]) for bar, group in bars.items()]
    return cells


# the placements at the end of March in the simulated demo (seed 5)
MARCH = {("familjehem", "bou"): 11, ("familjehem", "vuxna"): 0, ("arvoderat", "bou"): 45, ("arvoderat", "vuxna"): 0,
         ("hvb", "bou"): 4, ("hvb", "vuxna"): 9, ("jourhem", "bou"): 3, ("jourhem", "vuxna"): 0,
         ("skyddat", "bou"): 0, ("skyddat", "vuxna"): 3, ("stodboende", "bou"): 1, ("stodboende", "vuxna"): 4}
BARS = {"HVB och SiS": ("hvb",), "Familjehem": ("familjehem", "arvoderat", "jourhem"),
        "Övriga": ("skyddat", "stodboende")}


def test_the_smallest_complement_is_hidden_and_large_figures_stay():
    cells = table("pl", MARCH, BARS)
    published = protect(cells, BELOW)
    values = {c.key: c.value for c in cells}
    secondary = {k for k, kind in published.hidden.items() if kind == SECONDARY}
    assert not audit(cells, published.hidden, BELOW)
    assert {k for k, kind in published.hidden.items() if kind == PRIMARY} == {k for k, v in values.items() if 0 < v < BELOW}
    # the 59 family homes, the 45 paid foster homes and the totals stay visible; "jourhem" 3 is
    # protected by the 11 beside it, not by the bar above it
    for shown in ("pl-diagram/Familjehem", "pl/arvoderat/bou", "pl/arvoderat/Totalt", "pl/Totalt/bou",
                  "pl/Totalt/Totalt", "pl/Totalt/vuxna", "pl-diagram/HVB och SiS"):
        assert shown not in published.hidden, shown
    assert "pl/familjehem/bou" in secondary
    assert max(values[k] for k in secondary) <= 11
    # no complement is superfluous: showing any one of them again exposes a hidden count
    for key in secondary:
        fewer = {k: v for k, v in published.hidden.items() if k != key}
        assert audit(cells, fewer, BELOW), key


def test_last_months_report_is_respected_without_hiding_whole_groups():
    february = {**MARCH, ("arvoderat", "bou"): 44, ("jourhem", "bou"): 1, ("hvb", "vuxna"): 11}
    before = table("feb", february, BARS)
    before_published = protect(before, BELOW)
    # this month's report repeats last month's bars (its chart runs from January)
    now = table("pl", MARCH, BARS) + [c for c in before if c.key.startswith("feb-diagram/")]
    published = protect(now, BELOW, before, before_published.hidden)
    context = [Cell(f"fore:{c.key}", c.value, c.atoms) for c in before]
    hidden = {**published.hidden, **{f"fore:{k}": v for k, v in before_published.hidden.items()}}
    assert not audit(now + context, hidden, BELOW)
    for big in ("pl-diagram/Familjehem", "feb-diagram/Familjehem", "pl/arvoderat/bou", "pl/Totalt/Totalt"):
        assert big not in published.hidden, big


def test_a_count_with_no_complement_left_is_still_protected():
    # a small count whose only neighbour in its row is large: a large count must go, whatever it costs
    cells = table("t", {("a", "x"): 3, ("a", "y"): 50, ("b", "x"): 0, ("b", "y"): 7})
    published = protect(cells, BELOW)
    assert not audit(cells, published.hidden, BELOW)
    assert published.hidden.get("t/a/x") == PRIMARY
    assert {"t/a/y", "t/a/Totalt"} & set(published.hidden)
