"""Faults of the worker against the real Kafka and Redis (see docs/OPERATIONS.md): a paused
worker past its session, mis-keyed events, poison records, Redis back from an older snapshot.
Each ends identical to the replay without operator action."""
from __future__ import annotations

import os
import shutil
import signal
import threading
import time

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.faults.support import assert_all_identical, projected, stats
from tests.integration.test_worker import (  # noqa: F401 - fixtures
    Worker, _store, caught_up, lines_for, produce, reference, wait_for, worker, worker_env)


def _dead_letters(bootstrap: str, topic: str, partitions: int, want: int, timeout_s: float = 30) -> list:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    letters: list = []
    deadline = time.monotonic() + timeout_s
    while len(letters) < want and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            letters.extend(batch)
    consumer.close()
    return letters


def test_a_paused_worker_past_its_session_changes_nothing_it_lost(kafka_bootstrap, worker_env, tmp_path):
    """One of two workers is stopped (SIGSTOP) longer than its session while events arrive, then
    woken: the batch it held is fenced off (Redis, table, changelog, offsets), its partitions
    come back to it later, and Redis, the changelog and a rebuild from the changelog alone all
    equal the replay."""
    env, topics = worker_env
    lines = lines_for(municipalities=3, population=10_000, months=2, seed=21)
    replay, as_of, period = reference(lines)
    expected = replay.result(as_of, period)
    envs = [dict(env, CASEWATCH_WORKER_DATA_DIR=str(tmp_path / f"data-{n}")) for n in (1, 2)]
    workers = [Worker(e, tmp_path / f"worker-{n}.log") for n, e in enumerate(envs, 1)]
    sender = threading.Thread(target=produce, args=(kafka_bootstrap, topics.case_topic, lines, 300.0))
    try:
        for w in workers:
            w.start()
        wait_for(lambda: stats(env).heartbeat_ts is not None, 60, "the workers to start", workers[0])
        time.sleep(3)  # both in the group
        sender.start()
        wait_for(lambda: stats(env).events.get("accepted", 0) > 300, 60, "progress", workers[0], interval=0.1)
        os.kill(workers[1].proc.pid, signal.SIGSTOP)
        time.sleep(16)  # past the 6 s session: the group moves on without it
        os.kill(workers[1].proc.pid, signal.SIGCONT)
        sender.join()
        wait_for(caught_up(env, expected["units"], as_of, period), 180, "the projection after the pause",
                 workers[0], target=env)
        time.sleep(3)  # let a late write of the woken worker land, if it were to
        assert_all_identical(replay, as_of, period, env, kafka_bootstrap)
        assert all(w.alive() for w in workers)

        # The changelog alone rebuilds the same: no local tables, no Redis.
        for w in workers:
            w.kill9()
            shutil.rmtree(w.env["CASEWATCH_WORKER_DATA_DIR"], ignore_errors=True)
        _store(env).client.flushdb()
        workers[0].start()
        wait_for(lambda: projected(env, as_of, period) == expected["units"], 120,
                 "the projection rebuilt from the changelog", workers[0], target=env)
        assert_all_identical(replay, as_of, period, env, kafka_bootstrap)
    finally:
        if sender.is_alive():
            sender.join()
        for w in workers:
            if w.alive():
                os.kill(w.proc.pid, signal.SIGCONT)
            w.stop()


def test_misrouted_and_poison_records_are_dead_lettered_and_counted(kafka_bootstrap, worker_env, worker):
    """Events keyed by another case's id are dead-lettered as ``misrouted`` (never folded as a
    case of their own); a 1,030,000-byte value is dead-lettered with its value withheld; the
    worker goes on and the figures equal the replay of the well-formed events."""
    env, topics = worker_env
    lines = lines_for(municipalities=2, population=8_000, months=2, seed=4)
    replay, as_of, period = reference(lines)
    expected = replay.result(as_of, period)
    half = len(lines) // 2
    produce(kafka_bootstrap, topics.case_topic, lines[:half])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", max_request_size=2_000_000)
    misrouted = [lines[10], lines[half + 5], lines[-1]]
    for n, raw in enumerate(misrouted):
        producer.send(topics.case_topic, key=f"someone-else-{n}".encode(), value=raw.rstrip(b"\n"))
    poison = b'{"event_id": "' + b"x" * 1_030_000 + b'"}'
    producer.send(topics.case_topic, key=b"poison", value=poison)
    producer.flush(30)
    producer.close(10)
    produce(kafka_bootstrap, topics.case_topic, lines[half:])

    worker.start()
    wait_for(caught_up(env, expected["units"], as_of, period), 120, "the projection", worker, target=env)
    assert_all_identical(replay, as_of, period, env, kafka_bootstrap)
    s = stats(env)
    assert s.rejected.get("misrouted") == len(misrouted)
    assert sum(s.rejected.values()) == len(misrouted) + 1
    assert s.events["accepted"] == expected["events"]["accepted"]
    letters = _dead_letters(kafka_bootstrap, topics.dead_letter_topic, topics.partitions, len(misrouted) + 1)
    reasons = sorted(dict(r.headers)["reason"].decode() for r in letters)
    assert reasons.count("misrouted") == len(misrouted)
    big = [r for r in letters if dict(r.headers)["reason"] != b"misrouted"]
    assert len(big) == 1 and dict(big[0].headers)["redacted"] == b"1"
    assert orjson.loads(big[0].value) == {"withheld": "too_large", "bytes": len(poison)}
    assert worker.alive()


def _snapshot(client, prefix: str) -> dict[bytes, bytes]:
    return {key: client.dump(key) for key in client.scan_iter(f"{prefix}:*")}


def test_redis_back_from_an_older_snapshot_is_noticed_and_healed(kafka_bootstrap, worker_env, worker):
    """Redis comes back with data older than what the worker wrote (an old RDB, the last
    second of an everysec AOF): the worker sees its write marks differ and re-projects, also
    when it is restarted afterwards."""
    env, topics = worker_env
    lines = lines_for(municipalities=2, population=8_000, months=2, seed=9)
    half = len(lines) // 2
    first, first_as_of, first_period = reference(lines[:half])
    replay, as_of, period = reference(lines)
    expected = replay.result(as_of, period)
    produce(kafka_bootstrap, topics.case_topic, lines[:half])
    worker.start()
    wait_for(caught_up(env, first.result(first_as_of, first_period)["units"], first_as_of, first_period), 120,
             "the first half", worker, target=env)
    client = _store(env).client
    old = _snapshot(client, env["CASEWATCH_REDIS_PREFIX"])
    produce(kafka_bootstrap, topics.case_topic, lines[half:])
    wait_for(caught_up(env, expected["units"], as_of, period), 120, "the second half", worker, target=env)

    def restore_old() -> None:
        client.flushdb()
        for key, value in old.items():
            client.restore(key, 0, value, replace=True)

    restore_old()
    assert projected(env, as_of, period) != expected["units"]
    took = wait_for(lambda: projected(env, as_of, period) == expected["units"], 30,
                    "the re-projection after an older Redis came back", worker, interval=0.2, target=env)
    assert_all_identical(replay, as_of, period, env, kafka_bootstrap)
    print(f"healed an older Redis in {took:.1f}s")

    # The same with the worker restarted while Redis is old.
    worker.stop()
    restore_old()
    worker.start()
    wait_for(lambda: projected(env, as_of, period) == expected["units"], 60,
             "the re-projection after a restart on an older Redis", worker, interval=0.2, target=env)
    assert_all_identical(replay, as_of, period, env, kafka_bootstrap)
    client.close()
