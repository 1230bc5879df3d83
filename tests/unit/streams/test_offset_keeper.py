"""The offset keeper's housekeeping step against a consumer whose assignment moved on."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from faust.types import TP

from streams.offset_keeper import OffsetKeeper


class _Signal:
    def connect(self, receiver) -> None:
        self.receiver = receiver


class _Consumer:
    """Answers like aiokafka's: a partition that is not assigned has no position, it raises."""

    def __init__(self, assigned: set[TP], positions: dict[TP, int]) -> None:
        self.assigned = assigned
        self.positions = positions

    def assignment(self) -> set[TP]:
        return set(self.assigned)

    async def position(self, tp: TP) -> int:
        if tp not in self.assigned:
            raise RuntimeError(f"Partition {tp} is not assigned")
        return self.positions[tp]


def test_unstall_forgets_partitions_revoked_while_a_batch_still_taught_them():
    kept, moved = TP("case-events", 0), TP("case-events", 1)
    consumer = _Consumer({kept}, {kept: 5})
    app = SimpleNamespace(on_partitions_revoked=_Signal(), on_partitions_assigned=_Signal(), consumer=consumer)
    keeper = OffsetKeeper(app, settings=SimpleNamespace())
    # The revocation forgot ``moved``, then a batch that had prepared it before went on.
    keeper.ledger.start(kept, 5)
    keeper.ledger.start(moved, 7)

    asyncio.run(keeper.unstall())  # raised "not assigned" on every housekeeping tick before

    assert keeper.ledger.knows(kept)
    assert not keeper.ledger.knows(moved)
