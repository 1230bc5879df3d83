"""Faust wiring of the worker: case events → per-case table → Redis projection.

Per batch of messages (``stream.take_events``, up to ``batch_max`` or ``batch_within`` seconds):

1. each message is validated; a rejection is counted and sent to the dead-letter topic,
   redacted, with its reason in the headers; an accepted event joins its case's event set
   (:class:`streams.case_state.Batch`: one table read per case per batch);
2. every touched case is written back to the table once: the local store, and one changelog
   record per case sent straight through the producer (not awaited one by one);
3. the folded facts of every touched case and the pipeline-health counters go to Redis in one
   pipelined round trip;
4. the batch's changelog records and dead letters are awaited: Kafka has them (acks=all);
5. only then the worker commits (in the background) the case-topic offsets its ledger vouches
   for.

Offsets are the worker's, not Faust's (the case topic has ``acks=False``): Faust's ack
bookkeeping can commit across messages it dropped around a rebalance. The
:class:`~streams.offset_keeper.OffsetKeeper` admits each message against a ledger of contiguous
offsets (:mod:`streams.offsets`); a message past a hole makes it ask the broker whether the hole
is real and otherwise seek back.

A crash anywhere before (5) redelivers the batch. Whatever the table already holds comes back
as duplicates, and a duplicate still touches its case, so the case's changelog record and
Redis facts are sent again: nothing is lost and nothing is counted twice in the facts
(the health counters may count a redelivered event once more, as a duplicate).

Table writes take the partition of the *current event* (Faust's rocksdb store and changelog
both do). Inside a ``take`` batch that would be the last message buffered, so the current event
is set explicitly to each case's own message before its table read and write.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
import weakref
from typing import Any, Awaitable, Callable, Iterator, Optional

import faust
import redis
from faust.streams import _current_event  # the context variable behind faust.current_event()
from faust.types import TP, EventT, RecordMetadata

from streams.settings import Settings
from streams.projection import PipelineHealth, Projection
from streams.contract.validate import Rejection, validate_line
from streams.offset_keeper import OffsetKeeper
from streams.retry import until_it_answers
from streams.case_state import Batch, CaseState, split_key
from streams.dead_letter import dead_letter_record

log = logging.getLogger("casewatch.worker")

TABLE_NAME = "cases"
WORKER_SOURCE = "casewatch-worker"  # the dead letters' ``source`` header
REPROJECT_CHUNK = 1000


@contextlib.contextmanager
def as_current(event: EventT) -> Iterator[None]:
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def _validate(value: Optional[bytes]):
    if value is None:  # a tombstone or an empty record: nothing to read
        return Rejection("invalid_json")
    try:
        return validate_line(value)
    except Exception:  # noqa: BLE001 - the validator never raises; if it ever did, no crash
        log.exception("validator raised; message dead-lettered")
        return Rejection("invalid_json")


class CaseWorker:
    """The worker's topology on one Faust app: one agent, one table, one timer."""

    def __init__(self, app: faust.App, settings: Settings, store: Projection, *,
                 batch_max: int = 1000, batch_within: float = 0.1,
                 housekeeping_every: float = 2.0) -> None:
        self.app = app
        self.settings = settings
        self.store = store
        self.batch_max = batch_max
        self.batch_within = batch_within
        raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
        # acks=False: Faust neither tracks nor commits this topic's offsets; the worker does.
        self.case_topic = app.topic(settings.case_topic, partitions=settings.partitions, acks=False, **raw)
        self.dead_letter_topic = app.topic(settings.dead_letter_topic, **raw)
        # bytes keys and values: Faust picks the raw codec for both (CaseState encodes).
        self.table = app.Table(TABLE_NAME, key_type=bytes, value_type=bytes, partitions=settings.partitions,
                               help="per-case event sets")
        self._lock: Optional[asyncio.Lock] = None
        self.offsets = OffsetKeeper(app, settings)
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}"
        self._verified = False
        self.misrouted = 0
        self.agent = app.agent(self.case_topic, name="casewatch-cases")(self.process)
        app.timer(housekeeping_every, name="casewatch-housekeeping")(self.housekeeping)
        app.on_before_shutdown.connect(self._on_shutdown)

    @property
    def lock(self) -> asyncio.Lock:
        # Created on first use, inside the worker's event loop.
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    # --- the agent -------------------------------------------------------------------------

    async def process(self, stream: faust.StreamT) -> Any:
        async for events in stream.take_events(self.batch_max, within=self.batch_within):
            async with self.lock:
                try:
                    await self.process_batch(events)
                except BaseException:
                    self.offsets.forget_all()
                    raise

    async def _on_shutdown(self, app: faust.App, **_: Any) -> None:
        await self.offsets.close()
        with contextlib.suppress(redis.RedisError):
            self.store.forget_worker(self.worker_id)

    def _load(self, key: bytes) -> Optional[bytes]:
        return self.table.data.get(key)

    async def _redis(self, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)``, retried until Redis answers: the batch is not committed meanwhile,
        so nothing is lost, and the consumer keeps its group membership (Faust's consumer runs
        in its own thread).

        Called on the event loop, not in a thread: a batch's one pipelined round trip takes a
        few milliseconds, while a hop to a thread pool waits for the GIL behind Faust's consumer
        thread, measured at ten times that. Nothing else in the worker can go on without
        Redis anyway."""
        async def once() -> Any:
            return call(*args)

        return await until_it_answers(once, redis.RedisError, "Redis write", first_delay=0.1, max_delay=2.0,
                                      log_every=20)

    async def process_batch(self, events: list[EventT]) -> None:
        if not self._verified:
            # What Faust checks on a table write from a stream: the changelog topic has as
            # many partitions as the source topic (co-partitioning); raises PartitionsMismatch.
            self.table._verify_source_topic_partitions(self.settings.case_topic)
            self._verified = True
        assignment = self.app.consumer.assignment()
        await self.offsets.prepare({e.message.tp for e in events if e.message.tp in assignment})
        batch = Batch(self._load)
        last_event: dict[bytes, EventT] = {}
        producer = self.app.producer
        deliveries: list[Awaitable[RecordMetadata]] = []
        for event in events:
            message = event.message
            if message.tp not in assignment or not await self.offsets.admit(message):
                continue  # another worker owns it now, or it comes again after a seek back
            outcome = _validate(event.value)
            if type(outcome) is Rejection:
                batch.reject(outcome)
                letter = dead_letter_record(event.value, outcome, source=WORKER_SOURCE, key=message.key)
                deliveries.append(await producer.send(self.settings.dead_letter_topic, letter.key, letter.value,
                                                      None, None, letter.headers))
                continue
            with as_current(event):
                key, _new = batch.add(outcome)
            last_event[key] = event
            if message.key != outcome.case_id.encode():
                # The contract keys messages by case_id; a case spread over partitions would be
                # folded in two places. Logged (sparingly), not fixed: the producer must key.
                self.misrouted += 1
                if self.misrouted == 1 or self.misrouted % 10_000 == 0:
                    log.warning("%d messages so far not keyed by their case_id (latest: partition %s, "
                                "offset %s)", self.misrouted, message.partition, message.offset)
        # The table, written past Faust's per-key changelog path (one buffered produce and
        # callback per key): the local store directly, and the changelog records sent in bulk
        # and awaited below, before the batch is acked.
        changelog_topic = self.table.changelog_topic.get_topic_name()
        changelog: list[Awaitable[RecordMetadata]] = []
        for key, case in batch.cases.items():
            event = last_event[key]
            value = case.to_bytes()
            with as_current(event):
                self.table.data[key] = value
            changelog.append(await producer.send(changelog_topic, key, value, event.message.partition,
                                                 None, None))
        health = PipelineHealth(self.worker_id, batch.outcomes(), dict(batch.rejected), batch.newest_ts,
                                await self.consumer_lag())
        await self._redis(self.store.write_batch, list(batch.projections()), health)
        await asyncio.gather(*deliveries)
        persisted: dict[int, int] = {}
        for metadata in await asyncio.gather(*changelog):
            persisted[metadata.partition] = max(metadata.offset, persisted.get(metadata.partition, -1))
        for partition, offset in persisted.items():
            # what Faust's changelog callback does per record: the store's recovery starts here
            self.table.data.set_persisted_offset(TP(changelog_topic, partition), offset)
        self.offsets.commit_soon()

    # --- lag, heartbeat, re-projection -----------------------------------------------------

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
        return [tp.partition for tp in self._case_tps()]

    async def housekeeping(self) -> None:
        try:
            async with self.lock:
                await self.offsets.unstall()
            if self._ready() and self.store.incomplete(self._partitions()):
                await self.reproject()
            lag = await self.consumer_lag()
            self.store.record_pipeline(PipelineHealth(self.worker_id, {}, {}, None, lag))
        except Exception:  # noqa: BLE001 - Redis away for a moment: try again next tick
            log.exception("housekeeping failed; retrying")

    async def reproject(self) -> int:
        """Write the facts of every case this worker holds, then mark its partitions complete.

        A sentinel key (this run's own) marks the run: if Redis is flushed again meanwhile, the
        cases written before the flush are gone, so nothing is marked complete and the next tick
        starts over.
        """
        started = time.monotonic()
        n = 0
        token = uuid.uuid4().hex
        async with self.lock:  # no batch writes a case between its read here and its write
            partitions = self._partitions()
            await self._redis(self.store.begin_reprojection, token)
            chunk: list[tuple[str, str, bytes]] = []
            for key, raw in self.table.items():
                municipality, case_id = split_key(key)
                chunk.append((municipality, case_id,
                              CaseState.from_bytes(municipality, case_id, raw).facts_json()))
                if len(chunk) >= REPROJECT_CHUNK:
                    n += await self._redis(self.store.write_cases, chunk)
                    chunk = []
            if chunk:
                n += await self._redis(self.store.write_cases, chunk)
            if not await self._redis(self.store.reprojection_intact, token):
                log.warning("Redis was flushed during the re-projection; starting over")
                return 0
            await self._redis(self.store.mark_complete, partitions)
            await self._redis(self.store.end_reprojection, token)
        log.info("re-projected %d cases to Redis in %.2fs", n, time.monotonic() - started)
        return n
