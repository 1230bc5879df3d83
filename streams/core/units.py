"""Which unit a figure belongs to (CONTRACT.md §3a), and the items of each unit.

A case's unit at an instant ``t`` is the ``to_unit`` of its latest transfer at or before ``t``;
before its first transfer each item keeps the unit of the event that created it. Most cases are
never transferred: their items go to their own unit and carry no custody (``None``: always
here). An item of a transferred case goes to every unit it can belong to, each time with a
:class:`Custody` that answers *when* it belongs there; the KPIs ask it at the instant they count
(``as_of`` for point-in-time figures, the counted event's instant for period counts, each local
day for placement days).
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Iterable

from .facts import CaseFacts, CaseTransfer
from .timeutil import local_day


class Custody:
    """When a transferred case's item, created in unit ``own``, belongs to unit ``unit``."""

    __slots__ = ("unit", "own", "instants", "targets")

    def __init__(self, unit: str, own: str, transfers: tuple[CaseTransfer, ...]) -> None:
        self.unit = unit
        self.own = own
        self.instants = [t.at for t in transfers]  # ascending: the fold's event-time order
        self.targets = [t.unit for t in transfers]

    def holds(self, t: float) -> bool:
        """Whether the case is in this unit at instant ``t``."""
        i = bisect_right(self.instants, t)
        return (self.targets[i - 1] if i else self.own) == self.unit

    def day_ranges(self, lo: int, hi: int, as_of: float) -> list[tuple[int, int]]:
        """The local days of ``[lo, hi)`` that are this unit's: a day goes to the ``to_unit`` of
        the latest transfer (known at ``as_of``) whose local date is at or before it."""
        out = []
        start, owner = lo, self.own
        for at, target in zip(self.instants, self.targets):
            if at > as_of:
                break
            day = local_day(at)
            if day > start:
                if owner == self.unit and min(day, hi) > start:
                    out.append((start, min(day, hi)))
                start = day
            owner = target  # on one day the latest transfer wins
        if owner == self.unit and hi > start:
            out.append((start, hi))
        return out


class UnitItems:
    """All items of one (municipality, unit), gathered from many cases.

    Case items come as ``(item, custody)`` pairs (custody ``None``: the case never left its
    unit); ``payments`` as ``(custody, payments)`` per case (households are counted per case);
    staff items alone (staff never transfer); transfers as their instants. ``named`` is the
    first instant an event names the unit: before it the unit does not exist (CONTRACT.md §5).
    """

    __slots__ = ("reports", "investigations", "decisions", "placements", "applications", "payments", "staff",
                 "transfers_in", "transfers_out", "named")

    def __init__(self) -> None:
        for name in self.__slots__[:-1]:
            setattr(self, name, [])
        self.named = float("inf")

    def custodies(self) -> set[Custody]:
        """Every custody of the unit's items: their transfer instants move figures in or out."""
        found = {c for family in (self.reports, self.investigations, self.decisions, self.placements,
                                  self.applications) for _item, c in family if c is not None}
        found.update(c for c, _payments in self.payments if c is not None)
        return found


_CASE_FAMILIES = ("reports", "investigations", "decisions", "placements", "applications")


def group_by_unit(facts: Iterable[CaseFacts]) -> dict[tuple[str, str], UnitItems]:
    units: dict[tuple[str, str], UnitItems] = {}

    def bucket(key: tuple[str, str]) -> UnitItems:
        found = units.get(key)
        if found is None:
            found = units[key] = UnitItems()
        return found

    for case in facts:
        municipality = case.municipality
        for named in case.units:
            b = bucket((municipality, named.unit))
            if named.at < b.named:
                b.named = named.at
        for s in case.staff:
            bucket((municipality, s.unit)).staff.append(s)
        transfers = case.transfers
        if not transfers:
            for family, items in zip(_CASE_FAMILIES, case[1:6]):
                for item in items:
                    getattr(bucket((municipality, item.unit)), family).append((item, None))
            by_unit: dict[str, list] = {}
            for p in case.payments:
                by_unit.setdefault(p.unit, []).append(p)
            for unit, payments in by_unit.items():
                bucket((municipality, unit)).payments.append((None, tuple(payments)))
            continue
        targets = {t.unit for t in transfers}
        custodies: dict[tuple[str, str], Custody] = {}

        def custody(own: str, unit: str) -> Custody:
            found = custodies.get((own, unit))
            if found is None:
                found = custodies[(own, unit)] = Custody(unit, own, transfers)
            return found

        for family, items in zip(_CASE_FAMILIES, case[1:6]):
            for item in items:
                for unit in targets | {item.unit}:
                    getattr(bucket((municipality, unit)), family).append((item, custody(item.unit, unit)))
        by_unit = {}
        for p in case.payments:
            by_unit.setdefault(p.unit, []).append(p)
        for own, payments in by_unit.items():
            for unit in targets | {own}:
                bucket((municipality, unit)).payments.append((custody(own, unit), tuple(payments)))
        for t in transfers:
            bucket((municipality, t.unit)).transfers_in.append(t.at)
            bucket((municipality, t.from_unit)).transfers_out.append(t.at)
    return units


def earliest_item(items: UnitItems) -> float:
    """The first instant an event names the unit; before it the unit does not exist."""
    return items.named
