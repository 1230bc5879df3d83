"""The worker's offsets on the case topic: which messages to process now, and what to commit.

Faust's own bookkeeping is off for the case topic (``acks=False``, see :mod:`streams.offsets`
for why). :class:`OffsetKeeper` is the adapter between Faust's consumer and the pure
:class:`~streams.offsets.OffsetLedger`: it starts each newly assigned partition at the group's
committed offset, admits messages one by one, asks the broker (without joining the group)
when a hole shows, seeks back where messages went missing, and commits what the ledger vouches
for, in the background, in the thread that owns Faust's consumer.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Iterable, Optional

import aiokafka
import faust
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import OffsetAndMetadata, TopicPartition
from faust.types import TP
from kafka.errors import KafkaError

from streams.kafka_log import GroupOffsets, KafkaLogError
from streams.settings import Settings

from .offsets import OffsetLedger, Verdict
from .retry import until_it_answers

log = logging.getLogger("casewatch.worker")

RESEEK_EVERY = 1.0  # seconds a seek back may wait for its offset before it is issued again
STALL_AFTER = 5.0  # seconds a partition may wait below its fetch position before a seek back


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


class OffsetKeeper:
    """Offsets of the case topic for one Faust app (see the module doc). The caller serialises
    :meth:`prepare`, :meth:`admit` and :meth:`unstall` (the worker's batch lock)."""

    def __init__(self, app: faust.App, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.ledger: OffsetLedger[TP] = OffsetLedger()
        self._broker: Optional[GroupOffsets] = None
        self._committing: Optional[asyncio.Future] = None
        self.reseeks = 0
        app.on_partitions_revoked.connect(self._on_revoked)
        app.on_partitions_assigned.connect(self._on_assigned)

    async def _on_revoked(self, app: faust.App, revoked: set[TP], **_: Any) -> None:
        self.ledger.forget(revoked)

    async def _on_assigned(self, app: faust.App, assigned: set[TP], **_: Any) -> None:
        # Kafka resumes an assigned partition at the committed offset: learn it again.
        self.ledger.forget(assigned)

    def forget_all(self) -> None:
        """After a failed batch: the ledger may have advanced over messages whose writes did not
        happen, so every partition starts again from what the group has committed."""
        self.ledger.forget_all()

    async def rewind(self, tps: Iterable[TP]) -> None:
        """After a failed batch: forget the ledger and have the consumer fetch every assigned
        partition in ``tps`` again from the group's committed offset (no later message is needed
        to reveal the hole, so an idle partition does not stall)."""
        self.ledger.forget_all()
        tps = sorted(tps)
        if not tps:
            return
        committed = await self._ask_broker(lambda broker: broker.committed(tps))
        assigned = self.app.consumer.assignment()
        seeks = {tp: committed[(tp.topic, tp.partition)] for tp in tps if tp in assigned}
        if seeks:
            await self.app.consumer.seek_wait(seeks)

    def position(self, tp: TP) -> Optional[int]:
        """The next offset of ``tp`` to process, when the ledger knows the partition."""
        return self.ledger.expected(tp) if self.ledger.knows(tp) else None

    async def close(self) -> None:
        if self._committing is not None:
            await asyncio.wait([self._committing], timeout=10)
        if self._broker is not None:
            self._broker.close()

    # --- before and during a batch ------------------------------------------------------------

    async def prepare(self, tps: Iterable[TP]) -> None:
        """Before a batch with messages of ``tps`` (assigned partitions): issue overdue seeks
        and start the partitions the ledger does not know yet at their committed offsets."""
        for tp in self.ledger.seeks_due(time.monotonic(), RESEEK_EVERY):
            await self._seek_back(tp)
        unknown = sorted({tp for tp in tps if not self.ledger.knows(tp)})
        if unknown:
            committed = await self._ask_broker(lambda broker: broker.committed(unknown))
            for tp in unknown:
                self.ledger.start(tp, committed[(tp.topic, tp.partition)])

    async def admit(self, message: Any) -> bool:
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

    def commit_soon(self) -> None:
        """After a durable batch: commit what the ledger vouches for (every offset below has
        been fully processed) in the background, so the next batch does not wait for the round
        trip through Faust's consumer thread. One commit at a time: offsets committed in order."""
        if self._committing is not None and not self._committing.done():
            return  # the next batch commits what this one adds
        offsets = self.ledger.to_commit()
        if offsets:
            self._committing = asyncio.ensure_future(self._commit(offsets))

    async def unstall(self) -> None:
        """Seek back where a seek is overdue or a partition waits for messages the consumer
        has fetched past (see :meth:`OffsetLedger.stalled`)."""
        assigned = self.app.consumer.assignment()
        gone = [tp for tp in self.ledger.positions() if tp not in assigned]
        if gone:
            # revoked while a batch that had prepared them was still running: the batch taught
            # the ledger them again after the revocation forgot them. Asking the consumer for
            # their position raises (not assigned) and would fail every housekeeping tick.
            self.ledger.forget(gone)
        now = time.monotonic()
        for tp in self.ledger.seeks_due(now, RESEEK_EVERY):
            await self._seek_back(tp)
        for tp in list(self.ledger.positions()):
            position = await self.app.consumer.position(tp)
            if position is not None and self.ledger.knows(tp) and self.ledger.stalled(tp, position, now, STALL_AFTER):
                log.warning("%s: no progress at offset %d for %.0f s while the consumer is at %d; "
                            "reading again", tp, self.ledger.expected(tp), STALL_AFTER, position)
                await self._seek_back(tp)

    # --- the broker and the consumer ---------------------------------------------------------

    @property
    def broker(self) -> GroupOffsets:
        if self._broker is None:
            self._broker = GroupOffsets(self.settings.kafka_bootstrap, self.settings.consumer_group,
                                        security=self.settings.kafka_security())
        return self._broker

    async def _ask_broker(self, question: Callable[[GroupOffsets], Any]) -> Any:
        """``question(broker)`` on the blocking client, in a thread (connecting blocks too),
        retried until Kafka answers: nothing of the batch is committed meanwhile."""
        return await until_it_answers(lambda: asyncio.to_thread(lambda: question(self.broker)),
                                      (KafkaError, KafkaLogError), "asking Kafka for offsets",
                                      first_delay=0.5, max_delay=5.0, log_every=10)

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

    async def _commit(self, offsets: dict[TP, int]) -> None:
        try:
            # Faust's own commit path would crash the app when a rebalance took every partition
            # of the commit away meanwhile: committed here, in Faust's consumer thread.
            thread = self.app.consumer._thread
            self.ledger.committed(await thread.call_thread(commit_assigned, thread._ensure_consumer(), offsets))
        except Exception:  # noqa: BLE001 - not committed: redelivered later, nothing lost
            log.exception("committing offsets failed; they are committed with a later batch")
