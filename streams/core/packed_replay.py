"""The reference computation at a file's scale: :class:`Replay`'s figures from packed events.
This is ``casewatch replay``; :class:`Replay` stays as the plain oracle and for the readers of
cases (see :mod:`streams.core.replay` for why there are two).

:class:`streams.core.replay.Replay` keeps every event as Python objects (a dict per case, a
tuple, a float, the event id and the payload per event: about 400 bytes an event), which the
IVO report, the snapshot and the fault tests read case by case. ``casewatch replay`` only needs
the figures, so this class keeps each accepted event as about 60-90 packed bytes in one buffer
and folds each case once, at the end:

- lines are validated by :func:`streams.contract.fast_validate.validate_line_fast` (msgspec
  structs per event type), which gives :func:`validate_line`'s answer for every line;
- one ``bytearray`` holds every event: a small header (the offset of the case's previous event,
  ``occurred_at``, the catalogue code, the unit's number) and ``marshal`` of (event id, payload),
  which gives back the exact values (an int stays an int, a float a float); an event id that is
  a UUID in canonical text is kept as its 16 bytes and written back exactly;
- per case only the offset of its latest event: the events of a case are a chain backwards
  through the buffer, walked from the newest arrival to the first;
- duplicates are recognised when the case is folded, by the whole event id (exact, no hash):
  the first received is kept (written last in that walk), as CONTRACT.md §1 says and
  :class:`Replay` does; the duplicates are the accepted lines less the distinct events;
- the KPIs are computed one municipality at a time, so only one municipality's facts are held,
  and the per-case index is emptied as the cases are grouped by municipality (``result`` is the
  last call), so folding stays below the peak of reading.

The figures are those of :class:`Replay` bit for bit (a property test holds it): the same
events reach :func:`fold_case` for every case, each unit sees its items in the same order, and
every KPI is a count or an exactly rounded sum.
"""
from __future__ import annotations

import marshal
from collections import Counter
from struct import Struct
from typing import Iterable, Iterator, cast

from streams.contract.fast_validate import validate_line_fast
from streams.contract.validate import Registry

from .case_budget import CASE_TOO_LARGE, CaseBudget, within_budget
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


def _uuid_bytes(event_id: str) -> str | bytes:
    """A UUID event id in its canonical text (lowercase, dashes at 8, 13, 18, 23) as its 16
    bytes, which :func:`_uuid_text` turns back into exactly that text; any other id as it is.
    Other case systems write UUIDs: 21 bytes packed instead of 38. Event ids are strings in the
    contract, so a ``bytes`` in the buffer can only be one of these."""
    digits = event_id.replace("-", "")
    if len(digits) == 32 and event_id[8] == event_id[13] == event_id[18] == event_id[23] == "-" \
            and digits.isascii():
        try:
            packed = bytes.fromhex(digits)
        except ValueError:
            return event_id
        if packed.hex() == digits:  # 16 bytes from 32 digits (fromhex skips spaces), lowercase
            return packed
    return event_id


def _uuid_text(packed: bytes) -> str:
    h = packed.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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
        self.finished = False  # result() consumes the per-case index

    def add_lines(self, lines: Iterable[bytes | str]) -> None:
        if self.finished:
            raise RuntimeError("a packed replay takes no lines after its result")
        buffer, cases, unit_numbers = self.buffer, self.cases, self._unit_numbers
        pack, dumps, none = _HEADER.pack, _dumps, _NONE
        newest = self.newest
        received = 0
        event_id: str | bytes
        for event in accepted_events(lines, self.registry, self.rejected, validate_line_fast):
            event_id, _type, code, ts, municipality, unit, case_id, payload = event
            if len(event_id) == 36:
                event_id = _uuid_bytes(event_id)
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

    def _newest_first(self, offset: int) -> list[tuple]:
        """The case's events as ``(ts, code, event_id, unit, payload)``, newest arrival first
        (the chain runs from the newest arrival back)."""
        buffer, units, view = self.buffer, self.units, memoryview(self.buffer)
        unpack, loads, size, none = _HEADER.unpack_from, _loads, _HEADER.size, _NONE
        records = []
        while offset != none:
            low, high, ts, code, number = unpack(buffer, offset)
            if number != _INLINE_UNIT:
                event_id, payload = loads(view[offset + size:])
                unit = units[number]
            else:
                event_id, payload, unit = loads(view[offset + size:])
            if type(event_id) is bytes:
                event_id = _uuid_text(event_id)
            records.append((ts, code, event_id, unit, payload))
            offset = low | high << 32
        return records

    def _case_events(self, offset: int) -> dict[str, tuple]:
        """The case's distinct events, ``event id -> record``: walked newest first, so the first
        received of an id is written last and kept, as CONTRACT.md §1 says."""
        return {record[2]: record for record in self._newest_first(offset)}

    def _budgeted(self, offset: int) -> tuple[dict[str, tuple], int]:
        """A case past its byte budget: its events walked in arrival order, each spending the
        budget as the worker's state would (:mod:`.case_budget`); ``(kept, refused)``."""
        kept: dict[str, tuple] = {}
        refused = 0
        budget = CaseBudget()
        arrivals = self._newest_first(offset)
        arrivals.reverse()  # (not reversed(): mypyc 2.4 fails on it over this list)
        for record in arrivals:
            if record[2] in kept:
                continue  # a duplicate: counted as the accepted lines less kept and refused
            if budget.admit(record[2], record[0], record[1], record[3], record[4]):
                kept[record[2]] = record
            else:
                refused += 1
        return kept, refused

    def _take_cases(self) -> list[tuple[str, list[int]]]:
        """Each municipality's cases (the offsets of their latest events), municipalities sorted
        as :func:`compute` sorts them. The per-case index is emptied as it is read: its keys are
        a fifth of the memory, and freeing them keeps the folding below the peak of reading."""
        groups: dict[str, list[int]] = {}
        cases = self.cases
        pop = cases.popitem
        while cases:
            key, offset = pop()
            found = groups.get(key[:4])
            if found is None:
                found = groups[key[:4]] = []
            found.append(offset)
        self.finished = True
        for offsets in groups.values():
            offsets.reverse()  # popitem gives the last first: back to the order the cases appeared
        return sorted(groups.items())

    def _folded(self, municipality: str, offsets: list[int], as_of: float | None, tally: list) -> Iterator[CaseFacts]:
        """The facts of ``municipality``'s cases; adds to ``tally`` [distinct events kept, latest
        occurred_at of a kept event, events rejected as ``case_too_large``] (duplicates are the
        accepted lines less the other two)."""
        clocks = self.clocks
        accepted = too_large = 0
        latest = tally[1]
        case_events = self._case_events
        for offset in offsets:
            kept = case_events(offset)
            if not within_budget(kept.values()):
                kept, refused = self._budgeted(offset)
                too_large += refused
            accepted += len(kept)
            if kept:  # empty only when a (test's) budget refuses even the first event
                newest = max(kept.values())[0]  # tuples: occurred_at first; event ids are unique
                if latest is None or newest > latest:
                    latest = newest
            yield fold_case(municipality, kept.values(), as_of, clocks)
        tally[0] += accepted
        tally[1] = latest
        tally[2] += too_large

    def _figures(self, groups: list, as_of: float | None, chosen: float, period: Period, tally: list) -> dict:
        """:func:`compute` one municipality at a time: its figures depend on its own cases only,
        and only one municipality's facts are in memory at once."""
        units: dict = {}
        for municipality, offsets in groups:
            units.update(compute(self._folded(municipality, offsets, as_of, tally), chosen, period, self.clocks))
        return units

    def result(self, as_of: float | None = None, period: Period | None = None) -> dict:
        """The contract's JSON figures. The last call: it consumes the per-case index."""
        newest = self.newest
        if as_of is None and newest is None:
            raise ValueError("no accepted event to take as_of from; give --as-of")
        if self.finished:
            raise RuntimeError("a packed replay gives its result once")
        chosen: float = as_of if as_of is not None else cast(float, newest)
        groups = self._take_cases()
        tally: list = [0, None, 0]
        units = self._figures(groups, as_of, chosen, period or Period.month_to_date(chosen), tally)
        accepted, latest, too_large = tally
        duplicates = self.received - accepted - too_large
        rejected = self.rejected.copy()
        if too_large:
            rejected[CASE_TOO_LARGE] += too_large
        if as_of is None and latest != chosen:
            # The newest occurred_at came with a duplicate whose first copy was older: as_of is
            # the latest kept one. The facts are the same (no kept event is later), the KPIs not.
            chosen = latest
            units = self._figures(groups, None, chosen, period or Period.month_to_date(chosen), [0, None, 0])
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
