"""Which case-topic offsets the worker may commit: a ledger of contiguous progress, without I/O.

Faust's own offset bookkeeping is switched off for the case topic (``acks=False``): around a
rebalance Faust can drop messages it has already fetched and then record the jump as a "gap"
it commits across (faust-streaming#606), which loses those events for good. The worker commits
instead what this ledger says: per partition, the offset below which *every* message has been
processed. The ledger only ever moves a partition forward by one contiguous step, so a commit
can never pass a message the worker has not seen.

Per message, :meth:`OffsetLedger.admit` gives a :class:`Verdict`:

- ``PROCESS``: the next expected offset (the ledger advances) or one below it (a redelivery of
  something already processed: applying it again changes nothing, the fold is idempotent);
- ``HOLE``: offsets between the expected one and this one never arrived. The caller asks the
  broker for the first record at or after the expected offset (:meth:`absent_below`: none may
  exist, e.g. deleted by retention), admits the message again, and if it is still past a hole
  seeks back to the expected offset and calls :meth:`seeking`;
- ``SKIP``: a seek back is under way; this message will be delivered again after it.

When the lost messages were the last ones fetched, no later message reveals the hole:
:meth:`stalled` notices that the consumer has fetched past the expected offset while the
ledger has not moved for a while, and the caller seeks back.

A partition the ledger does not know yet (just assigned) must first be started at the group's
committed offset (:meth:`start`), which is where Kafka resumes after a crash.
"""
from __future__ import annotations

import enum
from typing import Generic, Hashable, Iterable, TypeVar

TP = TypeVar("TP", bound=Hashable)


class Verdict(enum.Enum):
    PROCESS = "process"
    HOLE = "hole"
    SKIP = "skip"


class OffsetLedger(Generic[TP]):
    def __init__(self) -> None:
        self._next: dict[TP, int] = {}      # partition → lowest offset not yet processed
        self._seeking: dict[TP, float] = {}  # partition → when the last seek back was issued
        self._committed: dict[TP, int] = {}  # what the last commit said, to skip no-op commits
        self._waiting: dict[TP, tuple[int, float]] = {}  # partition → (expected offset, since)

    def knows(self, tp: TP) -> bool:
        return tp in self._next

    def start(self, tp: TP, offset: int) -> None:
        """Begin tracking ``tp`` at ``offset``: everything below it is processed and committed."""
        self._next[tp] = offset
        self._committed[tp] = offset
        self._seeking.pop(tp, None)
        self._waiting.pop(tp, None)

    def forget(self, tps: Iterable[TP]) -> None:
        """Stop tracking partitions (revoked, or their progress is in doubt after a failure)."""
        for tp in tps:
            self._next.pop(tp, None)
            self._seeking.pop(tp, None)
            self._committed.pop(tp, None)
            self._waiting.pop(tp, None)

    def forget_all(self) -> None:
        self.forget(list(self._next))

    def expected(self, tp: TP) -> int:
        return self._next[tp]

    def admit(self, tp: TP, offset: int) -> Verdict:
        expected = self._next[tp]
        if offset == expected:
            self._next[tp] = offset + 1
            self._seeking.pop(tp, None)
            return Verdict.PROCESS
        if offset < expected:
            return Verdict.PROCESS
        return Verdict.SKIP if tp in self._seeking else Verdict.HOLE

    def seeking(self, tp: TP, now: float) -> None:
        """A seek back to the expected offset of ``tp`` was issued at ``now``: skip until the
        expected offset arrives."""
        self._seeking[tp] = now

    def seeks_due(self, now: float, every: float) -> list[TP]:
        """Partitions whose seek back was issued ``every`` seconds ago or more and is still
        waiting: to issue again. (Faust's fetch loop can overrule a seek: it records the offset
        of a message already fetched before the seek as read, and drops whatever comes below it,
        so the expected offset is filtered out; a later seek finds the loop past that batch.)"""
        return [tp for tp, issued in self._seeking.items() if now - issued >= every]

    def stalled(self, tp: TP, fetch_position: int, now: float, after: float) -> bool:
        """Whether ``tp`` waits for messages its consumer has already fetched past
        (``fetch_position``) and has not moved for ``after`` seconds: dropped messages at the end
        of the stream, with nothing after them to reveal the hole. Then seek back."""
        expected = self._next[tp]
        if fetch_position <= expected or tp in self._seeking:
            self._waiting.pop(tp, None)
            return False
        mark = self._waiting.get(tp)
        if mark is None or mark[0] != expected:
            self._waiting[tp] = (expected, now)
            return False
        return now - mark[1] >= after

    def is_seeking(self, tp: TP) -> bool:
        return tp in self._seeking

    def absent_below(self, tp: TP, first: int) -> None:
        """The broker says the first record at or after the expected offset of ``tp`` is
        ``first`` (or the log ends there): nothing lies in between (deleted by retention, or
        transaction markers), so ``first`` is the offset to expect."""
        if first < self._next[tp]:
            raise ValueError(f"{tp}: cannot move back from {self._next[tp]} to {first}")
        self._next[tp] = first

    def to_commit(self) -> dict[TP, int]:
        """Offsets to commit now: the partitions that moved since their last commit."""
        return {tp: n for tp, n in self._next.items() if self._committed.get(tp) != n}

    def committed(self, offsets: dict[TP, int]) -> None:
        for tp, n in offsets.items():
            if tp in self._next:
                self._committed[tp] = n

    def positions(self) -> dict[TP, int]:
        return dict(self._next)
