"""Faust wiring of the worker: case events → per-case table → Redis projection.

Per batch of messages (``stream.take_events``, up to ``batch_max`` or ``batch_within`` seconds):

1. each message is validated; a rejection is counted and sent to the dead-letter topic,
   redacted, with its reason in the headers; an accepted event joins its case's event set
   (:class:`streams.case_state.Batch`: one table read per case per batch, none for a case
   this worker wrote recently: :class:`streams.case_cache.CaseCache` keeps its decoded state);
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
Redis facts are sent again: nothing is lost and nothing is counted twice, neither in the facts
nor in ``casewatch_events_total`` (accepted follows the stored case counts; duplicates and
rejections are counted per offset, once: streams/projection_fencing.py).

Housekeeping (lag, heartbeat, re-projection) is :mod:`streams.worker_housekeeping`, a mixin of
:class:`CaseWorker`; the table's changelog bookkeeping is :mod:`streams.changelog`.

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
import weakref
from typing import Any, Awaitable, Callable, Optional

import faust
import redis
from faust.streams import _current_event
from faust.types import TP, EventT, RecordMetadata

from kafka.errors import KafkaError

from streams.settings import Settings
from streams.projection import PipelineHealth, Projection, tally_fields
from streams.projection_fencing import CaseWrite
from streams.contract.fast_validate import validate_line_fast
from streams.contract.validate import Rejection
from streams.offset_keeper import OffsetKeeper
from streams.retry import until_it_answers
from streams.case_cache import DEFAULT_MAX_EVENTS, CaseCache
from streams.case_state import TOO_LARGE, Batch
from streams.changelog import as_current, contiguous_end
from streams.worker_housekeeping import Housekeeping
from streams.dead_letter import MISROUTED, DeadLetter, dead_letter_record, withheld

log = logging.getLogger("casewatch.worker")

TABLE_NAME = "cases"
WORKER_SOURCE = "casewatch-worker"  # the dead letters' ``source`` header
FAILURE_LOG_EVERY = 30.0  # seconds: at most one ERROR with a traceback per outage
LAG_EVERY = 1.0  # seconds: how often a batch refreshes this worker's consumer lag in Redis
set_current, reset_current = _current_event.set, _current_event.reset  # see streams.changelog.as_current


def _poison_errors() -> tuple[type[BaseException], ...]:
    """Errors the broker gives for one record (never for an outage): retrying cannot help."""
    from aiokafka import errors as aio
    from kafka import errors as kp

    names = ("MessageSizeTooLargeError", "RecordListTooLargeError", "InvalidRecordError",
             "CorruptRecordException", "UnsupportedForMessageFormatError")
    found = [getattr(module, name) for module in (aio, kp) for name in names if hasattr(module, name)]
    return tuple(found)


POISON_ERRORS = _poison_errors()


def _validate(value: Optional[bytes], registry=None):
    if value is None:  # a tombstone or an empty record: nothing to read
        return Rejection("invalid_json")
    try:
        return validate_line_fast(value, registry)  # validate_line's answer, compiled for the common event
    except Exception:  # noqa: BLE001 - the validator never raises; if it ever did, no crash
        log.exception("validator raised; message dead-lettered")
        return Rejection("invalid_json")


class CaseWorker(Housekeeping):
    """The worker's topology on one Faust app: one agent, one table, one timer."""

    def __init__(self, app: faust.App, settings: Settings, store: Projection, *,
                 batch_max: int = 1000, batch_within: float = 0.1,
                 housekeeping_every: float = 2.0, cached_events: int = DEFAULT_MAX_EVENTS) -> None:
        self.app = app
        self.settings = settings
        self.store = store
        unit_registry = getattr(settings, "unit_registry", lambda: None)()  # CONTRACT.md §7; None: any unit
        self.registry = unit_registry.pairs if unit_registry is not None else None
        # The configured link window, as `casewatch replay` folds with it. A worker started with
        # another window re-projects every case it holds (nothing it holds is projected yet).
        self.clocks = settings.clocks()
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
        # decoded states of recently written cases (streams/case_cache.py): what the table holds
        self.cache = CaseCache(cached_events)
        self.offsets = OffsetKeeper(app, settings)
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}"
        self._verified = False
        self._generations: dict[int, int] = {}  # case-topic partition -> group generation it came with
        self._marks: dict[int, str] = {}  # partition -> the write mark this worker last set in Redis
        self._projected: set[int] = set()  # partitions re-projected since they were assigned
        self._lost: set[int] = set()  # partitions a fenced write showed another worker holds
        self._sequence = 0
        self._lag_at = -LAG_EVERY
        self.fenced_batches = 0
        self.failed_batches = 0
        self._last_failure_log = -FAILURE_LOG_EVERY
        self.withheld_dead_letters = 0
        app.on_partitions_assigned.connect(self._on_assigned)
        app.on_partitions_revoked.connect(self._on_revoked)
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
                except asyncio.CancelledError:
                    self.offsets.forget_all()
                    self.cache.clear()
                    raise
                except Exception:  # noqa: BLE001 - never a stall: read again from the commits
                    self.cache.clear()
                    self.failed_batches += 1
                    now = time.monotonic()
                    if now - self._last_failure_log >= FAILURE_LOG_EVERY:
                        self._last_failure_log = now
                        log.exception("a batch failed (%d so far); reading its partitions again from the "
                                      "committed offsets", self.failed_batches)
                    await self.offsets.rewind(self._case_tps())

    def _group_generation(self) -> int:
        """The consumer group generation this worker's consumer joined with (from the broker)."""
        try:
            return int(self.app.consumer._thread._ensure_consumer()._coordinator.generation)
        except AttributeError:  # no group coordinator (yet): the lowest generation
            return -1

    async def _on_assigned(self, app: faust.App, assigned: set[TP], **_: Any) -> None:
        self.cache.clear()  # the table's partitions are recovered from the changelog next
        generation = self._group_generation()
        for tp in assigned:
            if tp.topic == self.settings.case_topic:
                self._generations[tp.partition] = generation
                self._lost.discard(tp.partition)
                self._projected.discard(tp.partition)
                self._marks.pop(tp.partition, None)

    async def _on_revoked(self, app: faust.App, revoked: set[TP], **_: Any) -> None:
        self.cache.clear()
        for tp in revoked:
            if tp.topic == self.settings.case_topic:
                self._generations.pop(tp.partition, None)
                self._projected.discard(tp.partition)
                self._marks.pop(tp.partition, None)

    async def _batch_lag(self) -> Optional[int]:
        """The consumer lag for a batch's health, at most every :data:`LAG_EVERY` seconds (None
        in between: the stored lag stays). Asking the consumer's thread for positions costs two
        thread hops per partition, as much as a hundred events' folds at small batches."""
        now = time.monotonic()
        if now - self._lag_at < LAG_EVERY:
            return None
        self._lag_at = now
        return await self.consumer_lag()

    def _steady(self) -> bool:
        """No rebalance and no table recovery under way: the table holds what this worker wrote."""
        app = self.app
        return app.tables.recovery.completed.is_set() and not app.rebalancing and not app.in_recovery

    def _generation_of(self, partition: int) -> int:
        generation = self._generations.get(partition)
        if generation is None:
            generation = self._generations[partition] = self._group_generation()
        return generation

    async def _on_shutdown(self, app: faust.App, **_: Any) -> None:
        await self.offsets.close()
        with contextlib.suppress(redis.RedisError):
            self.store.forget_worker(self.worker_id)

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
        # The cache only in a steady state: a batch that runs while a rebalance or the table's
        # recovery is under way reads the table, and nothing it read is kept.
        cache = self.cache if self._steady() else None
        if cache is None:
            self.cache.clear()
        cache_generation = self.cache.generation
        reading: Optional[EventT] = None  # whose case a table read is for: it reads that partition

        def load(key: bytes) -> Optional[bytes]:  # only for cases not in the cache
            with as_current(reading):
                return self.table.data.get(key)

        batch = Batch(load, cache, self.clocks)
        last_event: dict[bytes, EventT] = {}
        partitions: set[int] = set()
        letters: list[DeadLetter] = []
        # exact counting (streams/projection_fencing.py): each partition's highest offset, and
        # the duplicate and rejected records by offset, counted once above what Redis counted
        offsets: dict[int, int] = {}
        tallies: list[tuple] = []
        for event in events:
            message = event.message
            if (message.tp not in assignment or message.partition in self._lost
                    or not await self.offsets.admit(message)):
                continue  # another worker owns it now, or it comes again after a seek back
            partitions.add(message.partition)
            offsets[message.partition] = max(offsets.get(message.partition, -1), message.offset)
            outcome = _validate(event.value, self.registry)
            if type(outcome) is not Rejection and message.key != outcome.case_id.encode():
                # The contract keys messages by case_id: a case spread over two partitions
                # would be folded in two places and each fold would overwrite the other.
                outcome = Rejection(MISROUTED)
            if type(outcome) is not Rejection:
                reading = event
                key, new = batch.add(outcome)
                last_event[key] = event
                if new is not None:
                    if not new:
                        tallies.append((message.partition, message.offset, *tally_fields("duplicate")))
                    continue
                outcome = TOO_LARGE  # its case's state has no room left: never a record too large to send
            batch.reject(outcome)
            tallies.append((message.partition, message.offset, *tally_fields("rejected", outcome.reason)))
            letters.append(dead_letter_record(event.value, outcome, source=WORKER_SOURCE, key=message.key))
        if not partitions:
            return
        # Redis first, fenced: a worker that lost a partition to a later group generation
        # learns it here and writes nothing, neither Redis, the table, the changelog nor offsets.
        self._sequence += 1
        fences = {p: self._generation_of(p) for p in partitions}
        marks = {p: f"{fences[p]}:{self.worker_id}:{self._sequence}" for p in partitions}
        cases = [CaseWrite(c.municipality, c.case_id, c.facts_json(self.clocks), len(c)) for c in batch.cases.values()]
        health = PipelineHealth(self.worker_id, batch.outcomes(), dict(batch.rejected), batch.newest_ts,
                                await self._batch_lag(), offsets, tuple(tallies))
        previous = {p: self._marks[p] for p in partitions if p in self._marks}
        written = await self._redis(self.store.write_fenced, cases, health, fences, marks, False, previous)
        if written.lost:
            self.fenced_batches += 1
            log.warning("partitions %s belong to a later group generation: this worker was paused or cut off "
                        "past its session; its batch is dropped and its offsets forgotten",
                        sorted(written.lost))
            self.offsets.forget_all()
            self.cache.clear()
            # Lost until the group assigns them again (on_partitions_assigned): the consumer may
            # rejoin with a newer generation before the rebalance and its recovery are done,
            # and its buffered messages must not pass the fence with that generation.
            self._lost.update(written.lost)
            return
        self._marks.update(marks)
        producer = self.app.producer
        deliveries = [(letter, await producer.send(self.settings.dead_letter_topic, letter.key, letter.value,
                                                   None, None, letter.headers)) for letter in letters]
        # The table, written past Faust's per-key changelog path (one buffered produce and
        # callback per key): the local store directly, and the changelog records sent in bulk
        # and awaited below, before the batch is acked.
        changelog_topic = self.table.changelog_topic.get_topic_name()
        changelog: list[Awaitable[RecordMetadata]] = []
        data = self.table.data
        for key, case in batch.cases.items():
            event = last_event[key]
            value = case.to_bytes()
            token = set_current(weakref.ref(event))  # as_current, inline: one per case adds up
            try:
                data[key] = value
            finally:
                reset_current(token)
            changelog.append(await producer.send(changelog_topic, key, value, event.message.partition,
                                                 None, None))
        await self._await_dead_letters(deliveries)
        written_at: dict[int, list[int]] = {}
        for metadata in await asyncio.gather(*changelog):
            written_at.setdefault(metadata.partition, []).append(metadata.offset)
        for partition, offsets in written_at.items():
            tp = TP(changelog_topic, partition)
            persisted = contiguous_end(self.table.data.persisted_offset(tp), offsets)
            if persisted is not None:
                # what Faust's changelog callback does per record: the store's recovery starts here
                self.table.data.set_persisted_offset(tp, persisted)
        if cache is not None:
            cache.put_all(batch.cases.items(), cache_generation)
        self.offsets.commit_soon()

    async def _await_dead_letters(self, deliveries: list[tuple[DeadLetter, Awaitable[RecordMetadata]]]) -> None:
        """Wait until Kafka has every dead letter; one the broker refuses (too large, or any
        other reason it gives) is replaced by a small marker, so no record can stall the worker."""
        for letter, delivery in deliveries:
            try:
                await delivery
            except KafkaError as exc:
                if not isinstance(exc, POISON_ERRORS):
                    raise
                self.withheld_dead_letters += 1
                log.warning("a dead letter was refused by Kafka (%s); sent a marker without its value",
                            type(exc).__name__)
                marker = withheld(letter, type(exc).__name__)
                await (await self.app.producer.send(self.settings.dead_letter_topic, marker.key, marker.value,
                                                    None, None, marker.headers))
