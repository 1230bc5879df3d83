"""The worker's cache of decoded case states, so that a case touched again soon is not read back
from the table and decoded from its bytes in every batch.

It only ever holds what the table holds: a :class:`~streams.case_state.Batch` *takes* a case out
of the cache (the batch then changes it in place), and the worker puts the batch's cases back
only after their table writes succeeded. A batch that fails, is fenced off or is cancelled
leaves its cases out, so the next batch reads them from the table again. Everything else that
changes the table (Faust's recovery from the changelog after a rebalance) comes after an
assignment or revocation, on which the worker clears the cache; a batch still running across
such a clear puts nothing back (:attr:`CaseCache.generation`), and a batch that starts while a
rebalance or the recovery is under way neither reads from the cache nor fills it.

This relies on ``CaseState.from_bytes(case.to_bytes())`` being the same state (a lossless
encoding, tested in ``tests/unit/streams/test_case_cache.py``): a cached case folds exactly as
the stored one would.

Bounded by the number of events held, oldest touched first out: about 0.5 KB of Python objects
per cached event.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterable, Optional

from streams.case_state import CaseState

DEFAULT_MAX_EVENTS = 200_000


class CaseCache:
    """Decoded case states by table key, least recently written out first."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self.max_events = max_events
        # A cached state is never changed while it is here (a batch takes it out first), so its
        # len() is the number of events it was counted with.
        self._cases: OrderedDict[bytes, CaseState] = OrderedDict()
        self.events = 0
        self.generation = 0  # bumped by every clear(): a batch older than the clear puts nothing back
        self.hits = 0
        self.misses = 0

    def take(self, key: bytes) -> Optional[CaseState]:
        """The cached state of ``key``, removed from the cache (the caller changes it), or None."""
        case = self._cases.pop(key, None)
        if case is None:
            self.misses += 1
            return None
        self.events -= len(case)
        self.hits += 1
        return case

    def put_all(self, cases: Iterable[tuple[bytes, CaseState]], generation: int) -> None:
        """Keep states just written to the table (each replaces any older one of its key) by a
        batch that started at ``generation``; nothing when the cache was cleared since (a
        rebalance while the batch was running: its partitions may be recovered anew)."""
        if self.max_events <= 0 or generation != self.generation:
            return
        for key, case in cases:
            older = self._cases.pop(key, None)
            if older is not None:
                self.events -= len(older)
            size = len(case)
            if size > self.max_events:
                continue
            self._cases[key] = case
            self.events += size
        while self.events > self.max_events:
            _key, oldest = self._cases.popitem(last=False)
            self.events -= len(oldest)

    def clear(self) -> None:
        self.generation += 1
        self._cases.clear()
        self.events = 0

    def __len__(self) -> int:
        return len(self._cases)

    def __contains__(self, key: bytes) -> bool:
        return key in self._cases
