"""The year forecast of ekonomiskt bistånd: households paid now, how long they stay, new ones.

Invariants, in prose:

* A case's payments are one household's spell of assistance, counted in calendar months from
  its first payment to its latest. A spell is running at a month's end when the household was
  paid in that month, ended otherwise.
* How many months a spell lasts comes from the municipality's own spells (Kaplan–Meier over
  months, running ones censored, :class:`~.forecast.Survival`): a household paid for ``k``
  months so far is expected to be paid in each later month with the chance its spell reaches
  it, at its latest amount.
* New households arrive at the trailing :data:`INFLOW_MONTHS` months' rate of first payments,
  evenly over the remaining months, each at the mean amount paid in the trailing three months.
* This follows the level of assistance as it moves (fewer households paid now: less to come),
  where a mean of recent months lags behind it, and it reverts towards the inflow's level as
  spells end.
* Pure: facts in, numbers out; no I/O.
"""
from __future__ import annotations

from datetime import date
from math import fsum
from typing import Callable, Iterable

from streams.core.facts import CaseFacts
from streams.core.timeutil import local_date

from .forecast import Spell, Survival

INFLOW_MONTHS = 12  # trailing window of new households: a year, so the seasons even out
RECENT_MONTHS = 3  # the mean payment of a new household: the last quarter's level


def _index(d: date) -> int:
    return d.year * 12 + d.month - 1


def assistance_parts(facts: Iterable[CaseFacts], owns: Callable[[str], bool], year: int, month: int,
                     as_of: float, first_day: int | None = None) -> dict[str, float]:
    """SEK of assistance from the month after ``month`` to December: running spells and new ones.
    ``first_day`` (ordinal): from when the events hold every case; a spell begun before it is
    seen only because it lasted, so it enters the durations from its age then."""
    now = year * 12 + month - 1
    observed = _index(date.fromordinal(first_day)) if first_day is not None else None
    remaining = 11 - (month - 1)
    spells: list[Spell] = []
    running: list[tuple[int, float]] = []  # (months paid so far, latest amount)
    new_households = 0
    recent: list[float] = []
    for case in facts:
        paid: dict[int, float] = {}
        for p in case.payments:
            if p.paid > as_of or not owns(p.unit):
                continue
            m = _index(local_date(p.paid))
            if now - RECENT_MONTHS < m <= now:
                recent.append(p.amount_sek)
            paid[m] = paid.get(m, 0.0) + p.amount_sek
        if not paid:
            continue
        first, last = min(paid), max(paid)
        length = last - first + 1
        entry = max(0, observed - first) if observed is not None else 0
        spells.append(Spell(length, last < now, entry))
        if last == now:
            running.append((length, paid[last]))
        if now - INFLOW_MONTHS < first <= now:
            new_households += 1
    if remaining <= 0 or not spells:
        return {"pagaende_bistand": 0.0, "nya_bistand": 0.0, "hushall_pagaende": len(running),
                "hushall_nya": new_households}
    survival = Survival(spells)
    # paid k months so far: paid in a later month with the chance its spell lasts that long
    current = fsum(amount * survival.days_left(k, remaining) for k, amount in running)
    mean_amount = fsum(recent) / len(recent) if recent else 0.0
    new = new_households / INFLOW_MONTHS * mean_amount * survival.days_of_new(remaining)
    return {"pagaende_bistand": current, "nya_bistand": new, "hushall_pagaende": len(running),
            "hushall_nya": new_households}
