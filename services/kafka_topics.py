"""Create casewatch's Kafka topics, idempotently.

The case-event topic is the system of record: it keeps everything forever
(``retention.ms=-1``, ``retention.bytes=-1``).  The dead-letter topic is kept as well, so
that every rejected input can still be inspected and replayed after a fix.
"""

from __future__ import annotations

import logging

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError, TopicAuthorizationFailedError

from streams.kafka_security import KafkaSecurity, client_options

CASE_TOPIC = "casewatch.case-events"
DEAD_LETTER_TOPIC = "casewatch.dead-letter"

KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}

log = logging.getLogger(__name__)


def _replication_factor(admin: KafkaAdminClient, wanted: int | None) -> int:
    if wanted:
        return wanted
    brokers = admin.describe_cluster().get("brokers") or []
    return 3 if len(brokers) >= 3 else 1


def topic_configs(admin: KafkaAdminClient, topic: str, keys=None) -> dict[str, str]:
    """The effective values of a topic's configs (all, or just ``keys``), read from the broker."""
    wanted = {k: None for k in keys} if keys else None
    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, wanted)], config_filter="all")
    entries = res.get("topic", {}).get(topic, {})
    return {k: v.get("value") for k, v in entries.items() if keys is None or k in keys}


def ensure_topics(
    bootstrap: str,
    case_topic: str = CASE_TOPIC,
    dead_letter_topic: str = DEAD_LETTER_TOPIC,
    partitions: int = 4,
    replication_factor: int | None = None,
    timeout_s: float = 30.0,
    security: KafkaSecurity | None = None,
) -> dict:
    """Create the case-event and dead-letter topics unless they exist; wait until usable.

    Returns ``{"bootstrap": ..., "created": [...], "existing": [...],
    "topics": {name: {"partitions": n, "configs": {...}}}}``.  An existing topic is left
    as it is (its partition count is reported, never changed: that would move keys). A principal
    without the right to create topics (a service under per-service ACLs) only checks that they
    exist: creating them is the Kafka admin's job then.
    """
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casewatch-topics",
                             request_timeout_ms=int(timeout_s * 1000), **client_options(security))
    try:
        rf = _replication_factor(admin, replication_factor)
        created, existing = [], []
        for name in (case_topic, dead_letter_topic):
            try:
                admin.create_topics(
                    {name: {"num_partitions": partitions, "replication_factor": rf, "configs": dict(KEEP_FOREVER)}},
                    timeout_ms=int(timeout_s * 1000),
                )
                created.append(name)
                log.info("created topic %s (%d partitions, rf %d)", name, partitions, rf)
            except TopicAlreadyExistsError:
                existing.append(name)
            except TopicAuthorizationFailedError:
                if name not in set(admin.list_topics()):
                    raise TopicAuthorizationFailedError(
                        f"topic {name} does not exist and this principal may not create it; "
                        "create it as the Kafka admin") from None
                existing.append(name)
        admin.wait_for_topics([case_topic, dead_letter_topic], timeout_ms=int(timeout_s * 1000))
        described = admin.describe_topics([case_topic, dead_letter_topic])
        topics = {(t.get("name") or t.get("topic")): {"partitions": len(t.get("partitions") or [])} for t in described}
        for name, info in topics.items():
            info["configs"] = topic_configs(admin, name, KEEP_FOREVER)
            if name in existing and info["partitions"] != partitions:
                log.warning("topic %s exists with %d partitions (asked for %d); left unchanged", name, info["partitions"], partitions)
            if name in existing and info["configs"] != KEEP_FOREVER:
                log.warning("topic %s exists with %s (expected %s); left unchanged", name, info["configs"], KEEP_FOREVER)
        return {"bootstrap": bootstrap, "created": created, "existing": existing, "topics": topics}
    finally:
        admin.close()
