"""Faust wiring of the worker: case events → per-case table → Redis projection.

Per batch of messages (``stream.take_events``, up to ``batch_max`` or ``batch_within`` seconds):

1. each message is validated; a rejection is counted and sent to the dead-letter topic,
   redacted, with its reason in the headers; an accepted event joins its case's event set
   (:class:`streams.worker_state.Batch`: one table read per case per batch);
2. every touched case is written back to the table once: the local store, and one changelog
   record per case sent straight through the producer (not awaited one by one);
3. the folded facts of every touched case and the pipeline-health counters go to Redis in one
   pipelined round trip;
4. the batch's changelog records and dead letters are awaited: Kafka has them (acks=all);
5. only then the worker commits (in the background) the case-topic offsets its
   :class:`OffsetLedger` vouches for.

Offsets are committed by the worker, not by Faust (the case topic has ``acks=False``): Faust's
ack bookkeeping can commit across messages it dropped around a rebalance (see
:mod:`streams.offsets`). The ledger advances a partition only over contiguous offsets; a message
past a hole makes the worker ask the broker whether the hole is real and otherwise seek back.

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
import itertools
import logging
import os
import socket
import time
import uuid
import weakref
from typing import Any, Awaitable, Callable, Iterator, Optional

import aiokafka
import faust
import redis
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import OffsetAndMetadata, TopicPartition
from faust.streams import _current_event  # the context variable behind faust.current_event()
from faust.types import TP, EventT, RecordMetadata
from kafka.errors import KafkaError

from services.kafka_log import GroupOffsets, KafkaLogError
from services.settings import Settings
from services.store import PipelineHealth, ProjectionStore
from streams.contract.validate import Rejection, validate_line
from streams.offsets import OffsetLedger, Verdict
from streams.worker_state import Batch, CaseState, dead_letter, split_key

log = logging.getLogger("casewatch.worker")

TABLE_NAME = "cases"
REPROJECT_CHUNK = 1000
RESEEK_EVERY = 1.0  # seconds a seek back may wait for its offset before it is issued again
STALL_AFTER = 5.0  # seconds a partition may wait below its fetch position before a seek back


@contextlib.contextmanager
def as_current(event: EventT) -> Iterator[None]:
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


async def until_it_answers(attempt: Callable[[], Awaitable[Any]], errors: Any, what: str, *,
                           first_delay: float, max_delay: float, log_every: int) -> Any:
    """``await attempt()`` until it does not raise one of ``errors``, backing off exponentially
    and logging the first failure and every ``log_every``-th."""
    delay = first_delay
    for n in itertools.count(1):
        try:
            return await attempt()
        except errors as exc:
            if n == 1 or n % log_every == 0:
                log.warning("%s failed (%s: %s); retrying (attempt %d)", what, type(exc).__name__, exc, n)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


async def commit_assigned(consumer: aiokafka.AIOKafkaConsumer, offsets: dict[TP, int]) -> dict[TP, int]:
    """Commit ``offsets`` of the partitions still assigned to ``consumer`` and return those (run
    in the thread that owns it, so no rebalance slips in between the check and the commit).
    Partitions assigned elsewhere meanwhile are read again by their new owner."""
    assigned = consumer.assignment()
    mine = {tp: offset for tp, offset in offsets.items() if (tp.topic, tp.partition) in assigned}
    if not mine:
        return {}
    try:
        await consumer.commit({TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(offset, "")
                               for tp, offset in mine.items()})
    except (CommitFailedError, IllegalStateError) as exc:
        log.info("offsets not committed (%s): the group rebalanced", type(exc).__name__)
        return {}
    return mine


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

    def __init__(self, app: faust.App, settings: Settings, store: ProjectionStore, *,
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
        self.ledger: OffsetLedger[TP] = OffsetLedger()
        self._group_offsets: Optional[GroupOffsets] = None
        self._committing: Optional[asyncio.Future] = None
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}"
        self._verified = False
        self.misrouted = 0
        self.reseeks = 0
        self.agent = app.agent(self.case_topic, name="casewatch-cases")(self.process)
        app.timer(housekeeping_every, name="casewatch-housekeeping")(self.housekeeping)
        app.on_partitions_revoked.connect(self._on_revoked)
        app.on_partitions_assigned.connect(self._on_assigned)
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
                    # The ledger advanced over messages whose writes may not have happened:
                    # start again from what the group has committed.
                    self.ledger.forget_all()
                    raise

    # --- offsets ---------------------------------------------------------------------------

    async def _on_revoked(self, app: faust.App, revoked: set[TP], **_: Any) -> None:
        self.ledger.forget(revoked)

    async def _on_assigned(self, app: faust.App, assigned: set[TP], **_: Any) -> None:
        # Kafka resumes an assigned partition at the committed offset: learn it again.
        self.ledger.forget(assigned)

    async def _on_shutdown(self, app: faust.App, **_: Any) -> None:
        if self._committing is not None:
            await asyncio.wait([self._committing], timeout=10)
        if self._group_offsets is not None:
            self._group_offsets.close()
        with contextlib.suppress(redis.RedisError):
            self.store.forget_worker(self.worker_id)

    @property
    def group_offsets(self) -> GroupOffsets:
        if self._group_offsets is None:
            self._group_offsets = GroupOffsets(self.settings.kafka_bootstrap, self.settings.consumer_group)
        return self._group_offsets

    async def _ask_broker(self, question: Callable[[GroupOffsets], Any]) -> Any:
        """``question(group_offsets)`` on the blocking broker client, in a thread, retried until
        Kafka answers: nothing of the batch is committed meanwhile."""
        # the client too is made in the thread: connecting blocks
        return await until_it_answers(lambda: asyncio.to_thread(lambda: question(self.group_offsets)),
                                      (KafkaError, KafkaLogError), "asking Kafka for offsets",
                                      first_delay=0.5, max_delay=5.0, log_every=10)

    async def _start_partitions(self, tps: set[TP]) -> None:
        committed = await self._ask_broker(lambda broker: broker.committed(sorted(tps)))
        for tp in tps:
            self.ledger.start(tp, committed[(tp.topic, tp.partition)])

    async def _admit(self, message: Any) -> bool:
        """Whether to process ``message`` now (see :mod:`streams.offsets`)."""
        tp, offset = message.tp, message.offset
        if not self.ledger.knows(tp):
            return False  # forgotten by a rebalance in the middle of the batch: comes again
        verdict = self.ledger.admit(tp, offset)
        if verdict is Verdict.PROCESS:
            return True
        if verdict is Verdict.SKIP:
            return False
        await self._skip_absent(tp)
        if not self.ledger.knows(tp):
            return False  # a rebalance while the broker was asked
        if self.ledger.admit(tp, offset) is Verdict.PROCESS:
            return True
        log.warning("%s: offsets %d..%d were not delivered to the worker; reading them again",
                    tp, self.ledger.expected(tp), offset - 1)
        await self._seek_back(tp)
        return False

    async def _skip_absent(self, tp: TP) -> None:
        """Move the ledger of ``tp`` over offsets the log has no records at (deleted by
        retention, transaction markers): the broker says where the next record is."""
        expected = self.ledger.expected(tp)
        first = await self._ask_broker(lambda broker: broker.first_offset_from(tp.topic, tp.partition, expected))
        if not self.ledger.knows(tp) or self.ledger.expected(tp) != expected:
            return  # a rebalance restarted the partition meanwhile: the answer is for another offset
        if first > expected:
            log.warning("%s: the log has no records at offsets %d..%d; continuing at %d",
                        tp, expected, first - 1, first)
            self.ledger.absent_below(tp, first)

    async def _seek_back(self, tp: TP) -> None:
        """Have the consumer fetch ``tp`` again from the ledger's expected offset."""
        await self._skip_absent(tp)
        if not self.ledger.knows(tp):
            return
        self.ledger.seeking(tp, time.monotonic())
        self.reseeks += 1
        await self.app.consumer.seek_wait({tp: self.ledger.expected(tp)})

    async def _unstall(self) -> None:
        """Seek back where a seek is overdue or a partition waits for messages the consumer
        has fetched past (see :meth:`OffsetLedger.stalled`)."""
        now = time.monotonic()
        for tp in self.ledger.seeks_due(now, RESEEK_EVERY):
            await self._seek_back(tp)
        for tp in list(self.ledger.positions()):
            position = await self.app.consumer.position(tp)
            if position is not None and self.ledger.knows(tp) and self.ledger.stalled(tp, position, now, STALL_AFTER):
                log.warning("%s: no progress at offset %d for %.0f s while the consumer is at %d; "
                            "reading again", tp, self.ledger.expected(tp), STALL_AFTER, position)
                await self._seek_back(tp)

    def _commit_soon(self) -> None:
        """Commit what the ledger vouches for (every offset below has been fully processed) in
        the background, so the next batch does not wait for the round trip through Faust's
        consumer thread. One commit at a time: offsets committed in order."""
        if self._committing is not None and not self._committing.done():
            return  # the next batch commits what this one adds
        offsets = self.ledger.to_commit()
        if offsets:
            self._committing = asyncio.ensure_future(self._commit(offsets))

    async def _commit(self, offsets: dict[TP, int]) -> None:
        try:
            # Faust's own commit path would crash the app when a rebalance took every partition
            # of the commit away meanwhile: committed here, in Faust's consumer thread.
            thread = self.app.consumer._thread
            self.ledger.committed(await thread.call_thread(commit_assigned, thread._ensure_consumer(), offsets))
        except Exception:  # noqa: BLE001 - not committed: redelivered later, nothing lost
            log.exception("committing offsets failed; they are committed with a later batch")

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
        for tp in self.ledger.seeks_due(time.monotonic(), RESEEK_EVERY):
            await self._seek_back(tp)
        assignment = self.app.consumer.assignment()
        unknown = {e.message.tp for e in events if e.message.tp in assignment and not self.ledger.knows(e.message.tp)}
        if unknown:
            await self._start_partitions(unknown)
        batch = Batch(self._load)
        last_event: dict[bytes, EventT] = {}
        producer = self.app.producer
        deliveries: list[Awaitable[RecordMetadata]] = []
        for event in events:
            message = event.message
            if message.tp not in assignment or not await self._admit(message):
                continue  # another worker owns it now, or it comes again after a seek back
            outcome = _validate(event.value)
            if type(outcome) is Rejection:
                batch.reject(outcome)
                value, key, headers = dead_letter(event.value, message.key, outcome)
                deliveries.append(await producer.send(self.settings.dead_letter_topic, key, value,
                                                      None, None, headers))
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
        self._commit_soon()

    # --- lag, heartbeat, re-projection -----------------------------------------------------

    async def consumer_lag(self) -> Optional[int]:
        """Messages on the assigned case-topic partitions not yet processed by this worker."""
        consumer = self.app.consumer
        total, known = 0, False
        for tp in consumer.assignment():
            if tp.topic != self.settings.case_topic:
                continue
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            position = self.ledger.positions().get(tp)
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
                and any(tp.topic == self.settings.case_topic for tp in app.consumer.assignment()))

    def _partitions(self) -> list[int]:
        return sorted(tp.partition for tp in self.app.consumer.assignment()
                      if tp.topic == self.settings.case_topic)

    async def housekeeping(self) -> None:
        try:
            async with self.lock:
                await self._unstall()
            if self._ready() and self.store.incomplete(self._partitions()):
                await self.reproject()
            lag = await self.consumer_lag()
            self.store.record_pipeline({}, {}, None, lag, self.worker_id)
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
        sentinel = f"{self.store.p}:reprojecting:{token}"
        async with self.lock:  # no batch writes a case between its read here and its write
            partitions = self._partitions()
            # expires: a worker killed mid-run leaves no key behind for good
            await self._redis(lambda: self.store.r.set(sentinel, token, ex=3600))
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
            if await self._redis(self.store.r.get, sentinel) != token.encode():
                log.warning("Redis was flushed during the re-projection; starting over")
                return 0
            await self._redis(self.store.mark_complete, partitions)
            await self._redis(self.store.r.delete, sentinel)
        log.info("re-projected %d cases to Redis in %.2fs", n, time.monotonic() - started)
        return n


def wire(app: faust.App, settings: Settings, store: ProjectionStore, **options: Any) -> CaseWorker:
    """Register the worker's agent, table and timer on ``app``."""
    return CaseWorker(app, settings, store, **options)
