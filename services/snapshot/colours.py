"""Green / yellow / red and the trend against last month: the board's rules as small functions.

Colours are the Swedish words the report prints (``grön``, ``gul``, ``röd``); ``None`` means
"cannot be judged" (no value this month) and is drawn grey.
"""
from __future__ import annotations

from typing import Iterable

GREEN, YELLOW, RED = "grön", "gul", "röd"
COLOURS = (GREEN, YELLOW, RED)
SCORE = {GREEN: 2, YELLOW: 1, RED: 0}

POSITIVE, STABLE, FALLING = "positiv", "oförändrad", "nedåtgående"
TRENDS = (POSITIVE, STABLE, FALLING)


def indicator_colour(value: float | None, target: float, direction: str, yellow_margin: float) -> str | None:
    """Green on the right side of the target (inclusive), yellow within ``yellow_margin``
    beyond it (inclusive), red further out. ``direction``: ``lagre`` lower is better,
    ``hogre`` higher is better."""
    if value is None:
        return None
    shortfall = value - target if direction == "lagre" else target - value
    if shortfall <= 0:
        return GREEN
    if shortfall <= yellow_margin:
        return YELLOW
    return RED


def budget_deviation_pct(cost: float, budget: float) -> float:
    """Cost over budget in percent of the budget (negative: under budget)."""
    if budget == 0:
        return 0.0 if cost <= 0 else float("inf")
    return (cost - budget) / abs(budget) * 100


def budget_colour(cost: float, budget: float, yellow_pct: float = 2.0) -> str:
    """The 2024 report's rule in the report's words, judged on the deviation as the report
    prints it (percent of the budget, one decimal): a 16 tkr overrun on 168 mnkr prints as
    "0,0 %" and is budget in balance, green, not a yellow the board cannot see a reason for.
    The rule itself is :func:`streams.thresholds.budget_status`, the one budget-colour rule in
    casewatch."""
    from streams.thresholds import budget_status

    if budget > 0:
        shown = float(f"{budget_deviation_pct(cost, budget):.1f}")  # as number(..., 1) prints it
        cost, budget = 100.0 + shown, 100.0
    return {"green": GREEN, "yellow": YELLOW, "red": RED}[budget_status(cost, budget, yellow_pct)]


def area_colour(colours: Iterable[str | None], green_from: float = 1.5, yellow_from: float = 0.75) -> str | None:
    """A goal area's colour from its indicators: grön 2, gul 1, röd 0 points; the mean
    >= ``green_from`` is green, >= ``yellow_from`` yellow, else red. Unjudged ones are left out."""
    scores = [SCORE[c] for c in colours if c is not None]
    if not scores:
        return None
    mean = sum(scores) / len(scores)
    if mean >= green_from:
        return GREEN
    if mean >= yellow_from:
        return YELLOW
    return RED


def improvement(now: float | None, before: float | None, target: float, direction: str) -> float | None:
    """The relative change from last month in the good direction: (before - now) / scale for
    lower-is-better, scale = max(|before|, |target|) (1 when both are 0)."""
    if now is None or before is None:
        return None
    scale = max(abs(before), abs(target)) or 1.0
    change = (now - before) / scale
    return -change if direction == "lagre" else change


def trend(improvements: Iterable[float | None], tolerance: float) -> str | None:
    """Mean improvement above ``tolerance``: positiv; below ``-tolerance``: nedåtgående; else
    oförändrad. None when nothing can be compared (the first month of the series)."""
    values = [x for x in improvements if x is not None]
    if not values:
        return None
    mean = sum(values) / len(values)
    if mean > tolerance:
        return POSITIVE
    if mean < -tolerance:
        return FALLING
    return STABLE


def budget_trend(deviation_pct_now: float | None, deviation_pct_before: float | None, tolerance_pp: float) -> str | None:
    """Trend of the budget area: the forecast's deviation from budget, in percentage points."""
    if deviation_pct_now is None or deviation_pct_before is None:
        return None
    return trend([deviation_pct_before - deviation_pct_now], tolerance_pp)
