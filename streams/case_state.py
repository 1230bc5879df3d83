"""The worker's per-case state, without I/O: a case's distinct events, dedup, re-fold, bytes.

A case is kept as the *set* of its distinct events (CONTRACT.md §3), as the reference replay
keeps it (:class:`streams.core.replay.Replay`), in two parts (:mod:`streams.core.case_budget`):

- its payments *compacted*: each as its item (unit, instant, amount) in columns, and its event
  id as a 64-bit hash for dedup (a payment is read by nothing in the fold but itself, so its
  item is all the fold needs, in any order);
- every other event whole: ``event_id`` → ``[ts, code, unit, payload]``.

Its folded facts are a function of that set alone (:meth:`CaseState.fold` is
:func:`~streams.core.facts.fold_case` of all its events, item for item), so the streaming path
and ``casewatch replay`` agree figure for figure, and re-applying a case after a crash writes
the same bytes. An event that would take the state past its byte budget is refused
(``case_too_large``), so no case's changelog record can outgrow what the producer sends.

:class:`Batch` gathers one ``stream.take()`` batch: every case an event touched, loaded once
from the table, updated in memory, written back once (one changelog record and one Redis field
per case per batch, not per event). A duplicate changes nothing in the set but still *touches*
its case: after a crash the local table may already hold an event whose changelog record and
Redis write never happened, and the redelivered copy (a duplicate by then) re-sends both.
"""
from __future__ import annotations

import sys
from array import array
from math import copysign
from collections import Counter
from struct import Struct
from typing import Callable, Iterable, Iterator, Optional, Protocol

import zlib

import orjson

from streams.contract.validate import Event, Rejection
from streams.core.case_budget import (
    BASE_COST, CASE_TOO_LARGE, PAYMENT_COST, STATE_LIMIT, compacted, id_hash, raw_cost, unit_cost,
)
from streams.core.clocks import DEFAULT_CLOCKS, Clocks
from streams.core.facts import (
    CaseFacts, PaymentItem, Record, UnitNamed, facts_to_json, fold_case, payment_order, plain_facts,
)

KEY_SEPARATOR = "/"
# Stored formats, told apart by the first byte:
# - "c" + zlib(header length, JSON [whole events, units, spent], then the payment columns):
#   this version;
# - "z" + zlib(JSON of every event whole): before payments were compacted (still read);
# - "{": plain JSON of every event whole, as the first versions wrote it (still read).
COMPACT = b"c"
COMPRESSED = b"z"
_LENGTH = Struct("<I")
_LITTLE = sys.byteorder == "little"  # the columns are stored little-endian


def table_key(municipality: str, case_id: str) -> bytes:
    """``{municipality}/{case_id}``: a municipality is four digits, so the split is unambiguous."""
    return f"{municipality}{KEY_SEPARATOR}{case_id}".encode()


def split_key(key: bytes) -> tuple[str, str]:
    municipality, _, case_id = key.decode().partition(KEY_SEPARATOR)
    return municipality, case_id


def _stored(column: array) -> bytes:
    if _LITTLE:
        return column.tobytes()
    copy = array(column.typecode, column)
    copy.byteswap()
    return copy.tobytes()


class CaseState:
    """One case's distinct events: payments compacted, the others whole (``event_id`` →
    ``[ts, code, unit, payload]`` in :attr:`events`)."""

    __slots__ = ("municipality", "case_id", "events", "units", "hashes", "paid_unit", "paid_at", "paid_amount",
                 "paid_int", "spent", "_hash_set", "_unit_numbers", "_in_order")

    def __init__(self, municipality: str, case_id: str, events: Optional[dict] = None) -> None:
        self.municipality = municipality
        self.case_id = case_id
        self.events: dict[str, list] = {}
        self.units: list[str] = []  # the compacted payments' units, by number
        self.hashes = array("Q")  # the compacted payments' id hashes; the columns are stored by instant
        self.paid_unit = array("H")
        self.paid_at = array("d")
        self.paid_amount = array("d")
        self.paid_int = array("B")  # 1: the amount came as an int (the facts keep its type)
        self.spent = BASE_COST
        self._hash_set: set[int] | None = None
        self._unit_numbers: dict[str, int] | None = None
        self._in_order = True  # the payment columns by instant (as stored): the fold's sort is then linear
        for event_id, (ts, code, unit, payload) in (events or {}).items():
            # an older format, every event whole: all of it is kept, past the budget too
            self._keep(event_id, ts, code, unit, payload, stored=True)

    # --- adding ---------------------------------------------------------------------------

    def add(self, event: Event) -> bool | None:
        """Keep ``event``; False (nothing changed) when the case already has its id, None
        (nothing changed) when keeping it would pass the case's byte budget."""
        event_id = event.event_id
        if event_id in self.events:
            return False
        if len(self.hashes) and id_hash(event_id) in self._hashes():
            return False
        return self._keep(event_id, event.ts, event.code, event.unit, list(event.payload))

    def _keep(self, event_id: str, ts: float, code: int, unit: str, payload: list,
              stored: bool = False) -> bool | None:
        if compacted(code, payload) and (len(self.units) < 0xFFFF or unit in self._numbers()):
            number = self._numbers().get(unit)
            cost = PAYMENT_COST if number is not None else PAYMENT_COST + unit_cost(unit)
            if self.spent + cost > STATE_LIMIT and not stored:
                return None
            if number is None:
                number = self._unit_numbers[unit] = len(self.units)
                self.units.append(unit)
            h = id_hash(event_id)
            self.hashes.append(h)
            if self._hash_set is not None:
                self._hash_set.add(h)
            amount = payload[0]
            if self._in_order and len(self.paid_at) and ts < self.paid_at[-1]:
                self._in_order = False
            self.paid_unit.append(number)
            self.paid_at.append(ts)
            self.paid_amount.append(amount)
            self.paid_int.append(type(amount) is int)
        else:
            cost = raw_cost(event_id, ts, code, unit, payload)
            if self.spent + cost > STATE_LIMIT and not stored:
                return None
            self.events[event_id] = [ts, code, unit, payload]
        self.spent += cost
        return True

    def _hashes(self) -> set[int]:
        if self._hash_set is None:
            self._hash_set = set(self.hashes)
        return self._hash_set

    def _numbers(self) -> dict[str, int]:
        if self._unit_numbers is None:
            self._unit_numbers = {unit: n for n, unit in enumerate(self.units)}
        return self._unit_numbers

    # --- folding --------------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        """The events kept whole as the fold takes them: ``(ts, code, event_id, unit, payload)``."""
        for event_id, (ts, code, unit, payload) in self.events.items():
            yield ts, code, event_id, unit, tuple(payload)

    def _payment_rows(self, as_of: float | None, whole: tuple) -> list[tuple]:
        """The case's payments (compacted, and ``whole``: the fold's from events kept whole) up
        to ``as_of`` as :func:`payment_order` tuples, sorted: plain tuples sort in C."""
        units, sign = self.units, copysign
        rows = [(at, amount if not as_int else int(amount), units[u], not as_int, sign(1.0, amount))
                for u, at, amount, as_int in zip(self.paid_unit, self.paid_at, self.paid_amount, self.paid_int)
                if as_of is None or at <= as_of]
        rows.extend(payment_order(p) for p in whole)
        rows.sort()
        return rows

    def _folded(self, as_of: float | None, clocks: Clocks) -> tuple[CaseFacts, list[tuple] | None]:
        """The fold of the events kept whole, its payments and units completed by the compacted
        payments; the payments also as sorted rows (None: no compacted payment up to ``as_of``)."""
        facts = fold_case(self.municipality, self.records(), as_of, clocks)
        if not len(self.hashes):
            return facts, None
        rows = self._payment_rows(as_of, facts.payments)
        if len(rows) == len(facts.payments):
            return facts, None
        named = dict(facts.units)
        for at, _amount, unit, _float, _sign in rows:  # sorted by instant: the first is the earliest
            if unit not in named or at < named[unit]:
                named[unit] = at
        return facts._replace(payments=(), units=tuple(UnitNamed(u, at) for u, at in sorted(named.items()))), rows

    def fold(self, as_of: float | None = None, clocks: Clocks = DEFAULT_CLOCKS) -> CaseFacts:
        """:func:`fold_case` of all the case's events: the whole ones folded, the compacted
        payments merged in the fold's own payment order, their units named from their first.
        ``clocks``: as the offline paths fold (the configured link window, ``Settings.clocks()``)."""
        facts, rows = self._folded(as_of, clocks)
        if rows is None:
            return facts
        return facts._replace(payments=tuple(PaymentItem(unit, at, amount) for at, amount, unit, _f, _s in rows))

    def facts_json(self, clocks: Clocks = DEFAULT_CLOCKS) -> bytes:
        """The folded facts (all events) as the projection stores them: ``facts_to_json(fold(None, clocks))``,
        the payments written as plain lists (a case's payments can be tens of thousands)."""
        facts, rows = self._folded(None, clocks)
        if rows is None:
            return facts_to_json(facts)
        plain = plain_facts(facts)
        plain[6] = [[unit, at, amount] for at, amount, unit, _f, _s in rows]
        return orjson.dumps(plain)

    # --- bytes ----------------------------------------------------------------------------

    def _put_in_order(self) -> None:
        """The payment columns sorted by instant (stable), as they are stored."""
        order = sorted(range(len(self.paid_at)), key=self.paid_at.__getitem__)
        for name in ("hashes", "paid_unit", "paid_at", "paid_amount", "paid_int"):
            column = getattr(self, name)
            setattr(self, name, array(column.typecode, [column[i] for i in order]))
        self._in_order = True

    def to_bytes(self) -> bytes:
        if not self._in_order:
            self._put_in_order()
        header = orjson.dumps([self.events, self.units, self.spent])
        if not len(self.hashes):
            return COMPACT + zlib.compress(_LENGTH.pack(len(header)) + header, 6)
        return COMPACT + zlib.compress(b"".join((
            _LENGTH.pack(len(header)), header, _stored(self.hashes), _stored(self.paid_unit),
            _stored(self.paid_at), _stored(self.paid_amount), _stored(self.paid_int))), 6)

    @classmethod
    def from_bytes(cls, municipality: str, case_id: str, raw: bytes) -> "CaseState":
        if raw[:1] != COMPACT:
            if raw[:1] == COMPRESSED:
                raw = zlib.decompress(raw[1:])
            return cls(municipality, case_id, orjson.loads(raw))
        data = zlib.decompress(raw[1:])
        (length,) = _LENGTH.unpack_from(data)
        end = 4 + length
        state = cls(municipality, case_id)
        state.events, state.units, state.spent = orjson.loads(data[4:end])
        if end < len(data):
            n = (len(data) - end) // 27  # 8 + 2 + 8 + 8 + 1 bytes a payment
            for name, size in (("hashes", 8), ("paid_unit", 2), ("paid_at", 8), ("paid_amount", 8), ("paid_int", 1)):
                column = getattr(state, name)
                column.frombytes(data[end:end + size * n])
                if not _LITTLE:
                    column.byteswap()
                end += size * n
        return state

    # --- comparing ------------------------------------------------------------------------

    def holds_exactly(self, event_ids: Iterable[str]) -> bool:
        """Whether the case's distinct events are exactly ``event_ids`` (compacted ones by hash)."""
        ids = set(event_ids)
        whole = set(self.events)
        return whole <= ids and sorted(id_hash(i) for i in ids - whole) == sorted(self.hashes)

    def __len__(self) -> int:
        return len(self.events) + len(self.hashes)

    def _compacted(self) -> list[tuple]:
        units = self.units
        return sorted(zip(self.hashes, (units[u] for u in self.paid_unit), self.paid_at, self.paid_amount,
                          self.paid_int))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, CaseState) and self.municipality == other.municipality
                and self.case_id == other.case_id and self.events == other.events
                and self._compacted() == other._compacted())

    def __repr__(self) -> str:
        return (f"CaseState({self.municipality!r}, {self.case_id!r}, {len(self.events)} events, "
                f"{len(self.hashes)} payments compacted)")


Loader = Callable[[bytes], Optional[bytes]]


# The rejection of an event its case has no room for (streams/core/case_budget.py).
TOO_LARGE = Rejection(CASE_TOO_LARGE)


class StateSource(Protocol):
    """Where a batch finds decoded states before it reads the table (:class:`streams.case_cache.CaseCache`)."""

    def take(self, key: bytes) -> Optional[CaseState]: ...


class Batch:
    """The outcome of one batch of messages, and the cases it touched (in first-touch order)."""

    def __init__(self, load: Loader, cache: Optional[StateSource] = None, clocks: Clocks = DEFAULT_CLOCKS) -> None:
        self._load = load
        self._cache = cache
        self.clocks = clocks  # what its cases fold with (the configured link window)
        self.cases: dict[bytes, CaseState] = {}
        self.accepted = 0
        self.duplicates = 0
        self.rejected: Counter[str] = Counter()
        self.newest_ts: float | None = None

    def add(self, event: Event) -> tuple[bytes, bool | None]:
        """Add an accepted event to its case; ``(table key, True when new to the case)``, or
        ``(table key, None)`` when the case has no room for it: the caller rejects it
        (:data:`TOO_LARGE`), and the case is still touched."""
        key = table_key(event.municipality, event.case_id)
        case = self.cases.get(key)
        if case is None:
            case = self._cache.take(key) if self._cache is not None else None
            if case is None:
                raw = self._load(key)
                case = (CaseState(event.municipality, event.case_id) if raw is None
                        else CaseState.from_bytes(event.municipality, event.case_id, raw))
            self.cases[key] = case
        added = case.add(event)
        if added is None:
            return key, None
        if not added:
            self.duplicates += 1
            return key, False
        self.accepted += 1
        if self.newest_ts is None or event.ts > self.newest_ts:
            self.newest_ts = event.ts
        return key, True

    def reject(self, rejection: Rejection) -> None:
        self.rejected[rejection.reason] += 1

    def outcomes(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicate": self.duplicates,
                "rejected": sum(self.rejected.values())}

    def projections(self) -> Iterator[tuple[str, str, bytes]]:
        """``(municipality, case_id, facts JSON)`` for every touched case, for ``write_cases``."""
        for case in self.cases.values():
            yield case.municipality, case.case_id, case.facts_json(self.clocks)
