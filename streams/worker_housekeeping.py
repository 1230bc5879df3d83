"""The worker's housekeeping: consumer lag, heartbeat, and re-projecting its cases to Redis.

A mixin of :class:`streams.agents.CaseWorker` (it shares the worker's state: the batch lock, the
partitions it holds and lost, the write marks and fences).
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Optional

from faust.types import TP

from streams.case_state import CaseState, split_key
from streams.pipeline_health import PipelineHealth
from streams.projection_fencing import CaseWrite

log = logging.getLogger("casewatch.worker")

REPROJECT_CHUNK = 1000


class Housekeeping:
    async def consumer_lag(self) -> Optional[int]:
        """Messages on the assigned case-topic partitions not yet processed by this worker."""
        consumer = self.app.consumer
        total, known = 0, False
        for tp in self._case_tps():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            position = self.offsets.position(tp)
            if position is None:
                position = await consumer.position(tp)
                if position is None:
                    continue
            total += max(0, highwater - position)
            known = True
        return total if known else None

    def _ready(self) -> bool:
        app = self.app
        recovery = app.tables.recovery
        return (recovery.completed.is_set() and not app.rebalancing and not app.in_recovery
                and bool(self._case_tps()))

    def _case_tps(self) -> list[TP]:
        """The case-topic partitions assigned to this worker."""
        return sorted(tp for tp in self.app.consumer.assignment() if tp.topic == self.settings.case_topic)

    def _partitions(self) -> list[int]:
        return [tp.partition for tp in self._case_tps() if tp.partition not in self._lost]

    async def housekeeping(self) -> None:
        try:
            async with self.lock:
                await self.offsets.unstall()
                if self._ready():
                    stale = self._stale_partitions()
                    if stale:
                        await self._reproject(stale)
            lag = await self.consumer_lag()
            self.store.record_pipeline(PipelineHealth(self.worker_id, {}, {}, None, lag))
        except Exception:  # noqa: BLE001 - Redis away for a moment: try again next tick
            log.exception("housekeeping failed; retrying")

    def _stale_partitions(self) -> list[int]:
        """The assigned partitions Redis may not hold in full: not re-projected since they were
        assigned (a restart, a rebalance), or whose write mark is not the one this worker set
        last (Redis wiped, or restarted from an older snapshot or AOF)."""
        partitions = self._partitions()
        marks = self.store.written_marks(partitions)
        return [p for p in partitions
                if p not in self._projected or (p in self._marks and marks.get(p) != self._marks[p])]

    async def reproject(self) -> int:
        async with self.lock:
            return await self._reproject(self._partitions())

    async def _reproject(self, stale: list[int]) -> int:
        """Write the facts of every case this worker holds, then set the write marks of its
        partitions (the caller holds the batch lock: no batch writes a case between its read
        here and its write). Cases are written through the same fences and grow-only guard as
        batches, so a worker that lost its partitions meanwhile changes nothing.

        A sentinel key (this run's own) marks the run: if Redis is flushed again meanwhile, the
        cases written before the flush are gone, so no mark is set and the next tick starts over.
        """
        started = time.monotonic()
        n = 0
        token = uuid.uuid4().hex
        partitions = self._partitions()
        fences = {p: self._generation_of(p) for p in partitions}
        await self._redis(self.store.begin_reprojection, token)
        chunk: list[CaseWrite] = []

        async def flush(marks: dict[int, str]) -> bool:
            nonlocal n
            outcome = await self._redis(self.store.write_fenced, chunk, None, fences, marks, bool(marks))
            if outcome.lost:
                log.warning("re-projection stopped: partitions %s belong to a later group generation",
                            sorted(outcome.lost))
                self._lost.update(outcome.lost)
                return False
            n += outcome.written
            chunk.clear()
            return True

        for key, raw in self.table.items():
            municipality, case_id = split_key(key)
            case = CaseState.from_bytes(municipality, case_id, raw)
            chunk.append(CaseWrite(municipality, case_id, case.facts_json(self.clocks), len(case)))
            if len(chunk) >= REPROJECT_CHUNK and not await flush({}):
                return n
        if not await self._redis(self.store.reprojection_intact, token):
            log.warning("Redis was flushed during the re-projection; starting over")
            return 0
        self._sequence += 1
        marks = {p: f"{fences[p]}:{self.worker_id}:{self._sequence}" for p in partitions}
        if not await flush(marks):
            return n
        self._marks.update(marks)
        self._projected.update(partitions)
        await self._redis(self.store.end_reprojection, token)
        log.info("re-projected %d cases to Redis in %.2fs (partitions %s stale)", n, time.monotonic() - started,
                 stale)
        return n
