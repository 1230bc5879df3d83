"""How many bytes a case's kept state may hold, and which events are kept compactly.

The worker keeps each case as one changelog record (:mod:`streams.case_state`); Faust's
producer refuses a record over 1,000,000 bytes, which would stall the worker on that case for
good. So every case has a byte budget, spent event by event in arrival order:

- ``payment.made`` is *compacted*: nothing in the fold reads a payment but the payment itself
  (no state machine pairs it with another event), so it is kept as its item (unit, instant,
  amount) plus a 64-bit hash of its event id for dedup: :data:`PAYMENT_COST` bytes, the unit's
  name once per case;
- every other event is kept whole (its JSON, :func:`raw_cost`): the kinds that pair opens with
  closes are not order-independent once compacted (docs/ARCHITECTURE.md, bounded case state),
  and they are bounded by episodes, not by time.

An event that would take a case's spent bytes past :data:`STATE_LIMIT` is rejected with reason
:data:`CASE_TOO_LARGE` (the worker dead-letters it, the replays count it): the same events in
the same order give the same decisions in ``casewatch replay`` and in the worker, whatever the
batches, because the budget is a sum over the kept events, never a measured size. The budget
is an upper bound of the uncompressed state, so the stored (zlib) record stays below it too.
"""
from __future__ import annotations

from hashlib import blake2b

import orjson

from streams.contract.catalogue import CATALOGUE

CASE_TOO_LARGE = "case_too_large"
# Below Faust's producer limit (max_request_size 1,000,000 bytes for the record with its key
# and batch header): zlib adds at most 5 bytes per 16 KiB to incompressible input.
STATE_LIMIT = 900_000
BASE_COST = 64  # the record's framing: prefix, header length, JSON brackets
# a compacted payment: id hash (8), instant (8), amount (8), int-or-float flag (1), unit number (2)
PAYMENT_COST = 27
PAYMENT = CATALOGUE["payment.made"].code
_EXACT_INT = 2 ** 53  # an int amount below this survives the float64 column exactly

_dumps = orjson.dumps


def compacted(code: int, payload: tuple) -> bool:
    """Whether an event is kept as a compact payment item (else it is kept whole)."""
    if code != PAYMENT:
        return False
    amount = payload[0]
    return type(amount) is float or (type(amount) is int and -_EXACT_INT < amount < _EXACT_INT)


def raw_cost(event_id: str, ts: float, code: int, unit: str, payload) -> int:
    """Bytes of an event kept whole: its entry ``"id":[ts,code,unit,[payload]],`` in the state."""
    return len(_dumps([event_id, ts, code, unit, payload]))


def unit_cost(unit: str) -> int:
    """Bytes of a unit's name in the compacted payments' unit list."""
    return len(_dumps(unit)) + 1


def id_hash(event_id: str) -> int:
    """The 64-bit hash a compacted event's id is kept as. Two ids of one case colliding would make
    the second a false duplicate: about n²/2⁶⁵ for a case of n compacted events (3·10⁻¹⁰ at
    100,000, 10⁻¹⁵ at 200)."""
    return int.from_bytes(blake2b(event_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


class CaseBudget:
    """The bytes a case has spent, for the replays (the worker's :class:`CaseState` keeps its own)."""

    __slots__ = ("spent", "units")

    def __init__(self) -> None:
        self.spent = BASE_COST
        self.units: set[str] = set()

    def cost(self, event_id: str, ts: float, code: int, unit: str, payload) -> int:
        if compacted(code, payload):
            return PAYMENT_COST if unit in self.units else PAYMENT_COST + unit_cost(unit)
        return raw_cost(event_id, ts, code, unit, payload)

    def admit(self, event_id: str, ts: float, code: int, unit: str, payload) -> bool:
        """Spend the event's bytes; False (nothing spent) when they would pass the limit."""
        cost = self.cost(event_id, ts, code, unit, payload)
        if self.spent + cost > STATE_LIMIT:
            return False
        self.spent += cost
        if code == PAYMENT and compacted(code, payload):
            self.units.add(unit)
        return True


def within_budget(records) -> bool:
    """Whether a case's distinct events ``(ts, code, event_id, unit, payload)`` all fit its budget
    together. Then every one of them is admitted whatever the order they came in (no prefix of
    the arrivals spends more than all of them), so the replays walk arrival order only for the
    rare case that does not fit."""
    admit = CaseBudget().admit
    for ts, code, event_id, unit, payload in records:
        if not admit(event_id, ts, code, unit, payload):
            return False
    return True
