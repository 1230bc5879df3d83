"""The reference computation at a file's scale: :class:`Replay`'s figures from packed events.

:class:`streams.core.replay.Replay` keeps every event as Python objects (a dict per case, a
tuple, a float, the event id and the payload per event: about 400 bytes an event), which the
IVO report, the snapshot and the fault tests read case by case. ``casewatch replay`` only needs
the figures, so this class keeps each accepted event as about 60-90 packed bytes in one buffer
and folds each case once, at the end:

- one ``bytearray`` holds every event: a small header (the offset of the case's previous event,
  ``occurred_at``, the catalogue code, the unit's number) and ``marshal`` of (event id, payload),
  which gives back the exact values (an int stays an int, a float a float);
- per case only the offset of its latest event: the events of a case are a chain backwards
  through the buffer, in arrival order once reversed;
- duplicates are recognised when the case is folded, by the whole event id (exact, no hash):
  the first received is kept, as CONTRACT.md §1 says and :class:`Replay` does;
- the KPIs are computed one municipality at a time, so only one municipality's facts are held.

The figures are those of :class:`Replay` bit for bit (a property test holds it): the same
events reach :func:`fold_case` for every case, each unit sees its items in the same order, and
every KPI is a count or an exactly rounded sum.
"""
from __future__ import annotations

import marshal
from collections import Counter
from struct import Struct
from typing import Iterable, Iterator

from streams.contract.validate import Registry

from .case_budget import CASE_TOO_LARGE, CaseBudget
from .clocks import DEFAULT_CLOCKS, Clocks
from .facts import CaseFacts, fold_case
from .kpis import Period, compute
from .replay import accepted_events
from .timeutil import format_ts

# previous event of the case (40 bits: low 32, high 8), occurred_at, catalogue code, unit number
_HEADER = Struct("<IBdBH")
_NONE = 0xFFFFFFFFFF  # "no previous event"
_INLINE_UNIT = 0xFFFF  # "the unit is in the marshalled part" (past 65,535 distinct units)
_dumps = marshal.dumps
_loads = marshal.loads


class PackedReplay:
    """Accumulates lines; :meth:`result` folds each case once and computes the figures."""

    def __init__(self, clocks: Clocks = DEFAULT_CLOCKS, registry: Registry | None = None) -> None:
        self.clocks = clocks
        self.registry = registry
        self.buffer = bytearray()
        # municipality (4 characters, CONTRACT.md §1) + case_id -> offset of the case's latest event
        self.cases: dict[str, int] = {}
        self.units: list[str] = []
        self._unit_numbers: dict[str, int] = {}
        self.received = 0  # accepted lines, duplicates included (told apart when folding)
        self.rejected: Counter[str] = Counter()
        self.newest: float | None = None  # the latest occurred_at received, duplicates included

    def add_lines(self, lines: Iterable[bytes | str]) -> None:
        buffer, cases, unit_numbers = self.buffer, self.cases, self._unit_numbers
        pack, dumps, none = _HEADER.pack, _dumps, _NONE
        newest = self.newest
        received = 0
        for event in accepted_events(lines, self.registry, self.rejected):
            event_id, _type, code, ts, municipality, unit, case_id, payload = event
            key = municipality + case_id
            previous = cases.get(key, none)
            cases[key] = len(buffer)
            number = unit_numbers.get(unit)
            if number is None:
                number = self._number(unit)
            buffer += pack(previous & 0xFFFFFFFF, previous >> 32, ts, code, number)
            buffer += dumps((event_id, payload) if number != _INLINE_UNIT else (event_id, payload, unit))
            received += 1
            if newest is None or ts > newest:
                newest = ts
        self.received += received
        self.newest = newest

    def _number(self, unit: str) -> int:
        if len(self.units) == _INLINE_UNIT:  # beyond 65,535 distinct units each event names its own
            return _INLINE_UNIT
        number = self._unit_numbers[unit] = len(self.units)
        self.units.append(unit)
        return number

    def _case_events(self, offset: int) -> list[tuple]:
        """The case's events in arrival order, as ``(ts, code, event_id, unit, payload)``."""
        buffer, units, view = self.buffer, self.units, memoryview(self.buffer)
        unpack, loads, size, none = _HEADER.unpack_from, _loads, _HEADER.size, _NONE
        events = []
        while offset != none:
            low, high, ts, code, number = unpack(buffer, offset)
            if number != _INLINE_UNIT:
                event_id, payload = loads(view[offset + size:])
                events.append((ts, code, event_id, units[number], payload))
            else:
                event_id, payload, unit = loads(view[offset + size:])
                events.append((ts, code, event_id, unit, payload))
            offset = low | high << 32
        events.reverse()
        return events

    def _by_municipality(self) -> list[tuple[str, list[int]]]:
        """Each municipality's cases (the offsets of their latest events) in the order the cases
        first appeared, municipalities sorted as :func:`compute` sorts them."""
        groups: dict[str, list[int]] = {}
        for key, offset in self.cases.items():
            found = groups.get(key[:4])
            if found is None:
                found = groups[key[:4]] = []
            found.append(offset)
        return sorted(groups.items())

    def _folded(self, municipality: str, offsets: list[int], as_of: float | None, tally: list) -> Iterator[CaseFacts]:
        """The facts of ``municipality``'s cases; adds to ``tally`` [distinct events, duplicates,
        latest occurred_at of a kept event, events rejected as ``case_too_large``]."""
        clocks = self.clocks
        accepted = duplicates = too_large = 0
        latest = tally[2]
        for offset in offsets:
            kept: dict[str, tuple] = {}
            budget = CaseBudget()
            for record in self._case_events(offset):
                if record[2] in kept:
                    duplicates += 1
                elif not budget.admit(record[2], record[0], record[1], record[3], record[4]):
                    too_large += 1  # the worker's state has no room for it either (case_budget.py)
                else:
                    kept[record[2]] = record
                    if latest is None or record[0] > latest:
                        latest = record[0]
            accepted += len(kept)
            yield fold_case(municipality, kept.values(), as_of, clocks)
        tally[0] += accepted
        tally[1] += duplicates
        tally[2] = latest
        tally[3] += too_large

    def _figures(self, as_of: float | None, chosen: float, period: Period, tally: list) -> dict:
        """:func:`compute` one municipality at a time: its figures depend on its own cases only,
        and only one municipality's facts are in memory at once."""
        units: dict = {}
        for municipality, offsets in self._by_municipality():
            units.update(compute(self._folded(municipality, offsets, as_of, tally), chosen, period, self.clocks))
        return units

    def result(self, as_of: float | None = None, period: Period | None = None) -> dict:
        if self.newest is None:
            if as_of is None:
                raise ValueError("no accepted event to take as_of from; give --as-of")
        chosen = as_of if as_of is not None else self.newest
        tally: list = [0, 0, None, 0]
        units = self._figures(as_of, chosen, period or Period.month_to_date(chosen), tally)
        accepted, duplicates, latest, too_large = tally
        rejected = self.rejected.copy()
        if too_large:
            rejected[CASE_TOO_LARGE] += too_large
        if as_of is None and latest != chosen:
            # The newest occurred_at came with a duplicate whose first copy was older: as_of is
            # the latest kept one. The facts are the same (no kept event is later), the KPIs not.
            chosen = latest
            units = self._figures(None, chosen, period or Period.month_to_date(chosen), [0, 0, None, 0])
        period = period or Period.month_to_date(chosen)
        return {
            "as_of": format_ts(chosen),
            "period": period.as_json(),
            "events": {
                "accepted": accepted,
                "duplicates": duplicates,
                "rejected": sum(rejected.values()),
                "rejected_by_reason": dict(sorted(rejected.items())),
            },
            "units": units,
        }
