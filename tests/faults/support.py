"""What every fault scenario checks at its end: the projection and the changelog equal the replay."""
from __future__ import annotations

from typing import Iterable

from kafka import KafkaConsumer, TopicPartition

from streams.case_state import CaseState, split_key
from streams.core.facts import facts_from_json, fold_case
from streams.core.replay import Replay
from tests.integration.test_worker import _store, assert_identical, projected, stats


def redis_cases(env: dict) -> dict[tuple[str, str], bytes]:
    store = _store(env)
    try:
        return {(m, case_id.decode()): raw for m in store.municipalities()
                for case_id, raw in store.read_facts_raw(m).items()}
    finally:
        store.client.close()


def changelog_last(bootstrap: str, topic: str, timeout_s: float = 60) -> dict[bytes, bytes]:
    """The last record per key of ``topic`` (what compaction keeps), read to its end offsets."""
    import time

    # check_crcs off: kafka-python checks them in Python, minutes for a changelog of large records
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, check_crcs=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert tps, f"no changelog topic {topic}"
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = {tp: end for tp, end in consumer.end_offsets(tps).items() if end > 0}
        last: dict[bytes, bytes] = {}
        deadline = time.monotonic() + timeout_s
        while ends and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500, max_records=5000).items():
                for record in records:
                    if record.offset < ends.get(tp, -1):
                        if record.value is None:
                            last.pop(record.key, None)
                        else:
                            last[record.key] = record.value
                if tp in ends and consumer.position(tp) >= ends[tp]:
                    del ends[tp]
        assert not ends, f"changelog {topic} not read to its end: {ends}"
        return last
    finally:
        consumer.close()


def case_mismatches(replay: Replay, env: dict, bootstrap: str, changelog_timeout_s: float = 60) -> list[str]:
    """Every case whose Redis facts or changelog event set differ from the replay's."""
    wrong: list[str] = []
    stored = redis_cases(env)
    for (municipality, case_id), records in replay.cases.items():
        want = fold_case(municipality, records.values())
        raw = stored.get((municipality, case_id))
        if raw is None or facts_from_json(raw) != want:
            wrong.append(f"redis {municipality}/{case_id}")
    extra = set(stored) - set(replay.cases)
    wrong += [f"redis extra {m}/{c}" for m, c in sorted(extra)]
    changelog = changelog_last(bootstrap, f"{env['CASEWATCH_CONSUMER_GROUP']}-cases-changelog", changelog_timeout_s)
    for key, raw in changelog.items():
        municipality, case_id = split_key(key)
        records = replay.cases.get((municipality, case_id))
        state = CaseState.from_bytes(municipality, case_id, raw)
        if records is None or not state.holds_exactly(records):
            wrong.append(f"changelog {municipality}/{case_id}")
    missing = set(replay.cases) - {split_key(k) for k in changelog}
    wrong += [f"changelog missing {m}/{c}" for m, c in sorted(missing)]
    return wrong


def assert_all_identical(replay: Replay, as_of: float, period, env: dict, bootstrap: str,
                         changelog_timeout_s: float = 60) -> None:
    assert_identical(env, replay, as_of, period)
    wrong = case_mismatches(replay, env, bootstrap, changelog_timeout_s)
    assert not wrong, f"{len(wrong)} cases differ from the replay, e.g. {wrong[:5]}"


__all__ = ["assert_all_identical", "case_mismatches", "projected", "stats", "changelog_last", "redis_cases"]
