"""Gallring: remove closed cases' data older than a date from every place it lives.

Design and reasons in docs/SECURITY.md ("Gallring"). In short: a topic partition is rewritten in
place. O = one past the last record to remove; every record below O that is kept is produced
again to the same partition (same key, value, headers), then ``DeleteRecords(partition, O)``
drops the prefix. Figures are a function of each case's *set* of events, deduplicated by
``event_id``, so a kept event appearing again later changes nothing.

A case is removed when it is closed (nothing in its facts still open: every report screened,
investigation closed, decision enforced or ended, placement ended, application decided, staff
member left) and its last event happened before the cut-off. The worker's derived state is
rebuilt from the rewritten log: the changelog topic and the local store are deleted, the
consumer group's offsets with them, and the removed cases' Redis fields are deleted. Frozen
reports keep what the board was shown; their case-level files and internal state lose the
removed cases (services/gallring_frozen.py).

:func:`plan` reads and decides without changing anything (the dry run); :func:`apply` carries a
plan out and refuses while a worker is running.
"""
from __future__ import annotations

import logging
import shutil
import time
from collections import Counter
from datetime import datetime
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from services import gallring_frozen as frozen_reports
from services.gallring_frozen import FrozenStore, Scrub
from streams.contract.validate import Event, validate_line
from streams.core.facts import CaseFacts, fold_case
from streams.kafka_log import read_records
from streams.core.timeutil import STOCKHOLM
from streams.kafka_security import client_options

log = logging.getLogger("casewatch.gallring")

TABLE_NAME = "cases"  # streams.agents.TABLE_NAME; the changelog is "{group}-{table}-changelog"

# Each kind of item in the facts, and the field that is None while the item is still open.
_OPEN_WHILE_NONE = {"reports": "screened", "investigations": "closed", "decisions": "resolved",
                    "placements": "ended", "applications": "decided", "staff": "left"}


def is_closed(facts: CaseFacts) -> bool:
    """Nothing in the case is still open."""
    for kind, end in _OPEN_WHILE_NONE.items():
        for item in getattr(facts, kind, ()) or ():
            if getattr(item, end, 0) is None:
                return False
    return True


@dataclass
class TopicPlan:
    topic: str
    cut: dict[int, int] = field(default_factory=dict)  # partition -> O (records below are dropped)
    keep: dict[int, list] = field(default_factory=dict)  # partition -> records below O to produce again
    removed: int = 0

    def as_json(self) -> dict:
        return {"topic": self.topic, "records_removed": self.removed,
                "records_produced_again": sum(len(v) for v in self.keep.values()),
                "partitions_cut": {str(p): o for p, o in sorted(self.cut.items())}}


@dataclass
class Plan:
    before: float
    cases: set[tuple[str, str]]  # (municipality, case_id) to remove
    topics: list[TopicPlan]
    by_municipality: Counter
    stores: list[FrozenStore] = field(default_factory=list)  # frozen reports (services/gallring_frozen.py)
    frozen: list[Scrub] = field(default_factory=list)  # their files that name a removed case

    def as_json(self) -> dict:
        return {"cases_removed": len(self.cases),
                "cases_by_municipality": dict(sorted(self.by_municipality.items())),
                "topics": [t.as_json() for t in self.topics],
                "frozen_report_files": [f.as_json() for f in self.frozen]}

    def before_date(self) -> str:
        return datetime.fromtimestamp(self.before, STOCKHOLM).date().isoformat()


def _read(settings, topic: str) -> dict[int, list]:
    """Every record of ``topic`` now, by partition (:class:`~streams.kafka_log.KafkaLogError`
    when it is missing or unreadable)."""
    by_partition: dict[int, list] = {}
    for record in read_records(settings.kafka_bootstrap, topic, security=settings.kafka_security(),
                               client_id="casewatch-gallra"):
        by_partition.setdefault(record.partition, []).append(record)
    return by_partition


def _cases_to_remove(case_records: dict[int, list], before: float) -> set[tuple[str, str]]:
    events: dict[tuple[str, str], dict[str, tuple]] = {}
    for records in case_records.values():
        for record in records:
            event = validate_line(record.value or b"")
            if type(event) is Event:
                events.setdefault((event.municipality, event.case_id), {})[event.event_id] = (
                    event.ts, event.code, event.event_id, event.unit, event.payload)
    chosen = set()
    for (municipality, case_id), records in events.items():
        if max(r[0] for r in records.values()) < before and is_closed(fold_case(municipality, records.values())):
            chosen.add((municipality, case_id))
    return chosen


def _named_case(value: bytes | None) -> tuple[str, str] | None:
    try:
        obj = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    if type(obj) is dict and type(obj.get("municipality")) is str and type(obj.get("case_id")) is str:
        return obj["municipality"], obj["case_id"]
    return None


def _topic_plan(topic: str, by_partition: dict[int, list], removed) -> TopicPlan:
    out = TopicPlan(topic)
    for partition, records in by_partition.items():
        gone = [r for r in records if removed(r)]
        if not gone:
            continue
        cut = max(r.offset for r in gone) + 1
        out.cut[partition] = cut
        out.keep[partition] = [r for r in records if r.offset < cut and not removed(r)]
        out.removed += len(gone)
    return out


def plan(settings, before: float, stores: list[FrozenStore] = ()) -> Plan:
    """What ``gallra --before`` would remove, from the topics and the frozen reports in
    ``stores``; nothing is changed."""
    case_records = _read(settings, settings.case_topic)
    cases = _cases_to_remove(case_records, before)

    def case_gone(record) -> bool:
        event = validate_line(record.value or b"")
        # A record the validator rejects never counted; below a cut it is dropped as well.
        return type(event) is not Event or (event.municipality, event.case_id) in cases

    def letter_gone(record) -> bool:
        return record.timestamp / 1000 < before or _named_case(record.value) in cases

    topics = [_topic_plan(settings.case_topic, case_records, case_gone)]
    # A partition with nothing removed keeps even the records case_gone would drop: no cut.
    topics.append(_topic_plan(settings.dead_letter_topic, _read(settings, settings.dead_letter_topic),
                              letter_gone))
    return Plan(before, cases, topics, Counter(m for m, _ in cases), list(stores),
                frozen_reports.plan(list(stores), cases))


class WorkerRunning(RuntimeError):
    pass


def _changelog_topic(settings) -> str:
    return f"{settings.consumer_group}-{TABLE_NAME}-changelog"


def _group_names(admin) -> set[str]:
    # kafka-python 3 answers dicts; older versions (group_id, protocol_type) tuples.
    return {entry["group_id"] if isinstance(entry, dict) else entry[0] for entry in admin.list_groups()}


def _members(described, group: str) -> int:
    info = described.get(group, {}) if isinstance(described, dict) else described[0]
    members = info.get("members") if isinstance(info, dict) else getattr(info, "members", None)
    return len(members or ())


def apply(settings, chosen: Plan, store=None) -> dict:
    """Carry out ``chosen``: rewrite the topics, reset the worker's derived state, clean Redis.
    Raises :class:`WorkerRunning` while the worker's consumer group has members."""
    from kafka import KafkaAdminClient, KafkaProducer, TopicPartition
    from kafka.errors import UnknownTopicOrPartitionError

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="casewatch-gallra",
                             **client_options(settings))
    try:
        group_exists = settings.consumer_group in _group_names(admin)
        if group_exists:
            members = _members(admin.describe_groups([settings.consumer_group]), settings.consumer_group)
            if members:
                raise WorkerRunning(f"the worker group {settings.consumer_group} has {members} member(s): "
                                    "stop the worker first")
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all",
                                 enable_idempotence=True, client_id="casewatch-gallra", **client_options(settings))
        try:
            for topic in chosen.topics:
                for partition, records in topic.keep.items():
                    futures = [producer.send(topic.topic, value=r.value, key=r.key, partition=partition,
                                             headers=list(r.headers or ()), timestamp_ms=r.timestamp)
                               for r in records]
                    producer.flush()
                    for future in futures:
                        future.get(timeout=30)
        finally:
            producer.close(timeout=10)
        for topic in chosen.topics:
            if topic.cut:
                admin.delete_records({TopicPartition(topic.topic, p): o for p, o in topic.cut.items()})
        # The worker's derived state: rebuilt from the rewritten log on its next start.
        try:
            admin.delete_topics([_changelog_topic(settings)])
        except UnknownTopicOrPartitionError:
            pass
        if group_exists:
            admin.delete_groups([settings.consumer_group])
    finally:
        admin.close()
    data_dir = Path(settings.worker_data_dir)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    if store is None:
        from streams.projection import RedisProjection

        store = RedisProjection.from_url(settings.redis_url, settings.redis_prefix)
    removed_fields = _clean_redis(store, chosen.cases)
    scrubbed = frozen_reports.apply(chosen.stores, chosen.cases, chosen.before_date())
    log.info("gallra: %d cases removed, %d Redis fields, %d frozen report files", len(chosen.cases),
             removed_fields, len(scrubbed))
    return {**chosen.as_json(), "frozen_report_files": [f.as_json() for f in scrubbed],
            "redis_fields_removed": removed_fields, "applied_at": time.time()}


def _clean_redis(store, cases: set[tuple[str, str]]) -> int:
    """Delete the removed cases' facts; the number of fields deleted."""
    r, p = store.client, store.prefix
    by_municipality: dict[str, list[str]] = {}
    for municipality, case_id in cases:
        by_municipality.setdefault(municipality, []).append(case_id)
    pipe = r.pipeline(transaction=False)
    deletions = 0
    for municipality, case_ids in sorted(by_municipality.items()):
        for start in range(0, len(case_ids), 1000):
            pipe.hdel(f"{p}:facts:{municipality}", *case_ids[start:start + 1000])
            deletions += 1
    for municipality in sorted(by_municipality):
        pipe.incr(f"{p}:version:{municipality}")  # readers re-parse the municipality
    for key in r.scan_iter(f"{p}:complete:*"):
        pipe.delete(key)  # the worker re-projects every case it holds on its next start
    results = pipe.execute()
    return sum(results[:deletions])
