"""Seeded draws and the calendar on integer seconds: the small helpers every part of the world uses,
and the pre-built JSON payloads of the hot path."""
from __future__ import annotations

from bisect import bisect
from datetime import date, datetime
from math import exp, sqrt
from random import Random

from streams.core.timeutil import STOCKHOLM

from . import model as M

# --- small helpers -----------------------------------------------------------------------------------

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_B36_1 = [(_B36[i // 36] if i >= 36 else "") + _B36[i % 36] for i in range(1296)]
_B36_2 = [_B36[i // 36] + _B36[i % 36] for i in range(1296)]


def b36(n: int) -> str:
    """Base-36 digits of ``n``; at most five characters below 60 million, hence no long digit runs."""
    if n < 1296:
        return _B36_1[n]
    if n < 1679616:
        return _B36_1[n // 1296] + _B36_2[n % 1296]
    if n < 2176782336:
        return _B36_1[n // 1679616] + _B36_2[n // 1296 % 1296] + _B36_2[n % 1296]
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out


def seed_tag(seed: int) -> str:
    """Letters only (never digits next to the municipality code): part of every event id so that
    streams of different seeds fed to one system do not collide."""
    n = (seed * 2654435761 + 40503) % (26 ** 3)
    return "".join("abcdefghijklmnopqrstuvwxyz"[(n // 26 ** i) % 26] for i in range(3))


class Choice:
    __slots__ = ("values", "cum", "total")

    def __init__(self, pairs) -> None:
        self.values = tuple(v for v, _ in pairs)
        cum, total = [], 0.0
        for _, w in pairs:
            total += w
            cum.append(total)
        self.cum = cum
        self.total = total

    def __call__(self, random) -> str:
        return self.values[bisect(self.cum, random() * self.total)]


def poisson(rng: Random, lam: float) -> int:
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        limit = exp(-lam)
        random = rng.random
        k, p = 0, random()
        while p > limit:
            k += 1
            p *= random()
        return k
    return max(0, int(rng.gauss(lam, sqrt(lam)) + 0.5))


def weekday(ordinal: int) -> int:
    return (ordinal - 1) % 7  # date.fromordinal(1) is a Monday


def workday(ordinal: int) -> int:
    """The day itself, or the Monday after a Saturday or Sunday."""
    w = (ordinal - 1) % 7
    return ordinal + 7 - w if w >= 5 else ordinal


MMSS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]


class Clock:
    """Stockholm calendar on integer POSIX seconds, with the caches the hot path needs."""

    def __init__(self) -> None:
        self._midnight: dict[int, int] = {}
        self._hours: dict[int, tuple[str, str, int]] = {}

    def midnight(self, ordinal: int) -> int:
        m = self._midnight.get(ordinal)
        if m is None:
            d = date.fromordinal(ordinal)
            m = int(datetime(d.year, d.month, d.day, tzinfo=STOCKHOLM).timestamp())
            self._midnight[ordinal] = m
        return m

    def _hour(self, h: int) -> tuple[str, str, int]:
        entry = self._hours.get(h)
        if entry is None:
            local = datetime.fromtimestamp(h * 3600, STOCKHOLM)
            iso = local.isoformat(timespec="seconds")  # YYYY-MM-DDTHH:MM:SS+HH:MM
            entry = (iso[:14], iso[19:], int(local.utcoffset().total_seconds()))
            self._hours[h] = entry
        return entry

    def fmt(self, ts: int) -> str:
        """RFC 3339 with the Stockholm offset, e.g. 2024-03-01T08:15:00+01:00."""
        h = ts // 3600
        entry = self._hours.get(h) or self._hour(h)
        return entry[0] + MMSS[ts - h * 3600] + entry[1]

    def day(self, ts: int) -> int:
        """The local calendar date (ordinal) of ``ts``."""
        h = ts // 3600
        entry = self._hours.get(h) or self._hour(h)
        return (ts + entry[2]) // 86400 + 719163  # date(1970, 1, 1).toordinal()


# --- pre-built draws and payloads -------------------------------------------------------------------------------------

REPORTER = Choice(M.REPORTERS)
REPORT_AGE = Choice(M.REPORT_AGE_BANDS)
CHILD_AREA = Choice(M.CHILD_AREAS)
ADULT_AREA = Choice(M.ADULT_AREAS)
CHILD_INTERVENTION = Choice(M.CHILD_INTERVENTIONS)
ADULT_INTERVENTION = Choice(M.ADULT_INTERVENTIONS)
CHILD_PLACEMENT = Choice(M.CHILD_PLACEMENT_TYPES)
ADULT_PLACEMENT = Choice(M.ADULT_PLACEMENT_TYPES)
EMERGENCY_PLACEMENT = Choice(M.EMERGENCY_PLACEMENT_TYPES)
CHILD_PLACEMENT_AGE = {t: Choice(p) for t, p in M.CHILD_PLACEMENT_AGE_BANDS.items()}
PERMANENT_FTE = Choice(M.PERMANENT_FTE)
CONSULTANT_FTE = Choice(M.CONSULTANT_FTE)
SEX = Choice(tuple((v or "-", w) for v, w in M.SEX))  # "-": left out

REPORT_DATA = {(r, a): f'{{"reporter":"{r}","age_band":"{a}"}}' for r in REPORTER.values
                for a in REPORT_AGE.values}
REPORT_DATA.update({(r, None): f'{{"reporter":"{r}"}}' for r in REPORTER.values})
PROTECTED_DATA = ('{"immediate_protection":false}', '{"immediate_protection":true}')
SCREENED_DATA = ('{"outcome":"no_investigation"}', '{"outcome":"investigation_opened"}')
CLOSED_DATA = ('{"outcome":"no_action"}', '{"outcome":"decision"}')
AREA_DATA = {a: f'{{"area":"{a}"}}' for a in CHILD_AREA.values + ADULT_AREA.values}
DECIDED_DATA = ('{"granted":false}', '{"granted":true}')

DAY = 86400


