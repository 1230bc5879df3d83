"""`casewatch worker` against the real Kafka and Redis: the projection equals `casewatch replay`.

Every test runs the worker as a subprocess on its own topics, consumer group, Redis DB and
data directory, and compares ``kpis.compute`` over the facts in Redis with :class:`Replay`
over the same lines at the same ``as_of`` (the latest event time, month to date).
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Optional

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from services.simulator import SimulationSpec, simulate, simulate_labelled
from streams.projection import PipelineStats, RedisProjection
from streams.contract.personal_id import contains_personal_id
from streams.core.kpis import Period, compute
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM
from tests.integration.pipeline import Service

REPO = Path(__file__).resolve().parents[2]
END = datetime(2024, 5, 17, 14, tzinfo=STOCKHOLM)  # mid-month: month-to-date figures


WORKER_ARGV = [sys.executable, "-m", "services.commands", "worker"]


def Worker(env: dict[str, str], log: Path) -> Service:  # noqa: N802 - reads as the class it was
    return Service("worker", ["worker", "--loglevel", "info", "--session-timeout", "6"], env, log)


@pytest.fixture
def worker_env(kafka_bootstrap, redis_url, topic_factory, tmp_path):
    """``(env, topics)``: environment for a worker on fresh topics, group, Redis DB and data dir."""
    topics = topic_factory(partitions=4, prefix="worker")
    env = dict(os.environ)
    env.update({
        "CASEWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CASEWATCH_REDIS_URL": redis_url,
        # Own key prefix too: pytest sessions running side by side may share a Redis DB number.
        "CASEWATCH_REDIS_PREFIX": f"t{uuid.uuid4().hex[:12]}",
        "CASEWATCH_CASE_TOPIC": topics.case_topic,
        "CASEWATCH_DEAD_LETTER_TOPIC": topics.dead_letter_topic,
        "CASEWATCH_PARTITIONS": str(topics.partitions),
        "CASEWATCH_CONSUMER_GROUP": f"worker-test-{uuid.uuid4().hex[:12]}",
        "CASEWATCH_WORKER_DATA_DIR": str(tmp_path / "worker-data"),
        "CASEWATCH_WORKER_WEB_PORT": "0",
        "PYTHONPATH": str(REPO),
    })
    env.pop("CASEWATCH_CONFIG_FILE", None)
    return env, topics


@pytest.fixture
def worker(worker_env, tmp_path):
    env, _topics = worker_env
    w = Worker(env, tmp_path / "worker.log")
    yield w
    w.stop()


# --- helpers -----------------------------------------------------------------------------------

def _key(raw: bytes) -> Optional[bytes]:
    try:
        case_id = orjson.loads(raw).get("case_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return case_id.encode() if isinstance(case_id, str) else None


def produce(bootstrap: str, topic: str, values: Iterable[Optional[bytes]], rate: Optional[float] = None) -> int:
    """Send values keyed by their case_id; ``rate`` (messages/s) paces the sending."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all", batch_size=1 << 18)
    n, started = 0, time.monotonic()
    try:
        for value in values:
            raw = value.rstrip(b"\n") if value is not None else None
            key = _key(raw) if raw is not None else b"tombstone"  # Kafka wants a key or a value
            producer.send(topic, key=key, value=raw)
            n += 1
            if rate and n % 100 == 0:
                ahead = n / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        producer.flush(60)
    finally:
        producer.close(10)
    return n


def lines_for(municipalities: int = 3, population: int = 12_000, months: int = 3, seed: int = 11,
              **kwargs) -> list[bytes]:
    spec = SimulationSpec(municipalities=municipalities, population=population, months=months, end=END,
                          seed=seed, **kwargs)
    return list(simulate(spec))


def reference(lines: Iterable[bytes]) -> tuple[Replay, float, Period]:
    replay = Replay()
    replay.add_lines(lines)
    as_of = replay.latest
    return replay, as_of, Period.month_to_date(as_of)


def _store(target) -> RedisProjection:
    """``target`` is the worker env (its Redis URL and prefix) or a URL (default prefix)."""
    if isinstance(target, dict):
        return RedisProjection.from_url(target["CASEWATCH_REDIS_URL"], target["CASEWATCH_REDIS_PREFIX"])
    return RedisProjection.from_url(target)


def projected(target, as_of: float, period: Period) -> dict:
    store = _store(target)
    try:
        facts = [f for m in store.municipalities() for f in store.read_facts(m)]
    finally:
        store.client.close()
    return compute(facts, as_of, period)


def stats(target) -> PipelineStats:
    store = _store(target)
    try:
        return store.pipeline_stats()
    finally:
        store.client.close()


def wait_for(check: Callable[[], bool], timeout: float, what: str, worker: Optional[Service] = None,
             interval: float = 0.5, target: Optional[dict] = None) -> float:
    """Seconds until ``check()`` holds; fails with the worker's log tail after ``timeout``."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if worker is not None and worker.proc is not None and not worker.alive():
            pytest.fail(f"worker exited (rc {worker.proc.returncode}) while waiting for {what}:\n{worker.tail()}")
        if time.monotonic() - started > timeout:
            tail = worker.tail() if worker is not None else ""
            pipeline = stats(target) if target else None
            pytest.fail(f"timed out after {timeout}s waiting for {what}; pipeline {pipeline}\n{tail}")
        time.sleep(interval)


def caught_up(target, expected_units: dict, as_of: float, period: Period) -> Callable[[], bool]:
    def check() -> bool:
        s = stats(target)
        return s.consumer_lag == 0 and projected(target, as_of, period) == expected_units

    return check


def assert_identical(target, replay: Replay, as_of: float, period: Period) -> None:
    expected = replay.result(as_of, period)["units"]
    got = projected(target, as_of, period)
    assert got.keys() == expected.keys()
    for municipality in expected:
        assert got[municipality] == expected[municipality], municipality


# --- tests -------------------------------------------------------------------------------------

def test_projection_equals_replay_twice_delivered_and_after_flushdb(kafka_bootstrap, worker_env, worker):
    env, topics = worker_env
    lines = lines_for()
    assert len(lines) > 2000
    produced = produce(kafka_bootstrap, topics.case_topic, lines)
    produced += produce(kafka_bootstrap, topics.case_topic, lines)  # every event a second time
    replay, as_of, period = reference(lines + lines)
    expected = replay.result(as_of, period)
    assert len(expected["units"]) == 3

    worker.start()
    wait_for(caught_up(env, expected["units"], as_of, period), 120, "the projection", worker, target=env)
    assert_identical(env, replay, as_of, period)
    s = stats(env)
    assert s.events["accepted"] == expected["events"]["accepted"]
    assert s.events["duplicate"] == expected["events"]["duplicates"]
    assert s.events["accepted"] + s.events["duplicate"] == produced
    assert s.newest_event_ts == as_of

    # Redis loses everything while the worker runs: the worker re-projects what it holds.
    _store(env).client.flushdb()
    took = wait_for(lambda: projected(env, as_of, period) == expected["units"], 20,
                    "the re-projection after FLUSHDB", worker, interval=0.2, target=env)
    assert_identical(env, replay, as_of, period)
    print(f"re-projected after FLUSHDB in {took:.1f}s")
    assert worker.alive()


# Faust's own offset bookkeeping used to commit past messages it dropped around a rebalance
# (faust-streaming#606): this test failed in most full-suite runs. The worker now commits from
# its own ledger of contiguous offsets (streams/offsets.py).
def test_kill_9_mid_stream_three_times_loses_and_doubles_nothing(kafka_bootstrap, worker_env, worker):
    env, topics = worker_env
    lines = lines_for(municipalities=4, population=20_000, months=4, seed=5)
    replay, as_of, period = reference(lines)
    expected = replay.result(as_of, period)
    rng = random.Random(20240517)

    # The stream keeps arriving while the worker is killed and restarted.
    sender = threading.Thread(target=produce, args=(kafka_bootstrap, topics.case_topic, lines, 600.0))
    sender.start()
    try:
        worker.start()
        for _ in range(3):
            # wait until this incarnation processes events, then kill it at a random moment
            before = stats(env).events.get("accepted", 0)
            wait_for(lambda: stats(env).events.get("accepted", 0) > before, 60,
                     "the worker to make progress", worker, interval=0.1)
            time.sleep(rng.uniform(0.1, 1.5))
            done = stats(env).events.get("accepted", 0)
            assert done < expected["events"]["accepted"], "stream finished before the kill: not mid-stream"
            worker.kill9()
            print(f"kill -9 after {done} of {expected['events']['accepted']} events")
            worker.start()
    finally:
        sender.join()
    wait_for(caught_up(env, expected["units"], as_of, period), 180, "the projection after 3 kills", worker,
             target=env)
    assert_identical(env, replay, as_of, period)
    assert worker.starts == 4

    # The changelog alone holds every case: lose the local tables and Redis, kill -9 once more.
    worker.kill9()
    shutil.rmtree(env["CASEWATCH_WORKER_DATA_DIR"])
    _store(env).client.flushdb()
    worker.start()
    wait_for(lambda: projected(env, as_of, period) == expected["units"], 120,
             "the projection rebuilt from the changelog", worker, target=env)
    assert_identical(env, replay, as_of, period)


def test_two_workers_share_the_partitions_through_kills_rebalances_and_a_flush(kafka_bootstrap, worker_env, tmp_path):
    """Two workers in one group, each with its own data dir: one is killed mid-stream (its
    partitions move to the other), comes back (they move again), and Redis is flushed: each
    worker re-projects its own partitions, and the figures equal the replay."""
    env, topics = worker_env
    lines = lines_for(municipalities=3, population=15_000, months=3, seed=8)
    replay, as_of, period = reference(lines)
    expected = replay.result(as_of, period)
    envs = [dict(env, CASEWATCH_WORKER_DATA_DIR=str(tmp_path / f"data-{n}")) for n in (1, 2)]
    workers = [Worker(e, tmp_path / f"worker-{n}.log") for n, e in enumerate(envs, 1)]
    sender = threading.Thread(target=produce, args=(kafka_bootstrap, topics.case_topic, lines, 500.0))
    sender.start()
    try:
        for w in workers:
            w.start()
        before = stats(env).events.get("accepted", 0)
        wait_for(lambda: stats(env).events.get("accepted", 0) > before + 500, 90,
                 "both workers to make progress", workers[0], interval=0.1)
        workers[1].kill9()
        time.sleep(8)  # past the session timeout: its partitions move to the first worker
        assert workers[0].alive()
        workers[1].start()
        sender.join()
        wait_for(caught_up(env, expected["units"], as_of, period), 180, "the projection of two workers",
                 workers[0], target=env)
        assert_identical(env, replay, as_of, period)

        _store(env).client.flushdb()
        wait_for(lambda: projected(env, as_of, period) == expected["units"], 60,
                 "both workers' re-projection after FLUSHDB", workers[0], interval=0.2, target=env)
        assert_identical(env, replay, as_of, period)
        assert all(w.alive() for w in workers), [w.tail() for w in workers]
    finally:
        sender.join()
        for w in workers:
            w.stop()


def test_malformed_messages_go_to_the_dead_letter_topic(kafka_bootstrap, worker_env, worker):
    env, topics = worker_env
    spec = SimulationSpec(municipalities=2, population=8_000, months=2, end=END, seed=3, invalid_rate=0.03)
    labelled = list(simulate_labelled(spec))
    personnummer = "19900101-0017"
    extra: list[tuple[Optional[bytes], str]] = [
        (None, "invalid_json"),  # a tombstone
        (b"\xff\xfe\x00 not text", "invalid_json"),
        (b"[1, 2, 3]", "bad_type"),
        (b"{}", "missing_field"),
        (b'"just a string"', "bad_type"),
        (orjson.dumps({"event_id": "x", "type": "report.received", "occurred_at": "2024-05-01T10:00:00+02:00",
                       "municipality": "0138", "unit": "bou-1", "case_id": "c-x",
                       "data": {"reporter": "skola", "note": f"born {personnummer}"}}),
         "personal_id_in_payload"),
        (b'{"event_id": "y", "note": "\\u0031\\u0039900101-0017"}', "personal_id_in_payload"),
        (b"x" * 200_000, "invalid_json"),
    ]
    rng = random.Random(1)
    stream: list[tuple[Optional[bytes], Optional[str]]] = list(labelled)
    for item in extra:
        stream.insert(rng.randrange(len(stream)), item)
    bad = [reason for _v, reason in stream if reason]
    assert len(bad) > 20
    produce(kafka_bootstrap, topics.case_topic, [v for v, _r in stream])
    replay, as_of, period = reference(v for v, r in stream if r is None)
    expected = replay.result(as_of, period)

    worker.start()
    wait_for(caught_up(env, expected["units"], as_of, period), 120, "the projection", worker, target=env)
    assert_identical(env, replay, as_of, period)
    s = stats(env)
    assert s.events["accepted"] == expected["events"]["accepted"]
    assert s.events["rejected"] == len(bad)
    want_reasons: dict[str, int] = {}
    for reason in bad:
        want_reasons[reason] = want_reasons.get(reason, 0) + 1
    assert dict(s.rejected) == want_reasons

    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=5000)
    consumer.assign([TopicPartition(topics.dead_letter_topic, p) for p in range(topics.partitions)])
    letters = []
    deadline = time.monotonic() + 30
    while len(letters) < len(bad) and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=1000).values():
            letters.extend(batch)
    consumer.close()
    got_reasons: dict[str, int] = {}
    for record in letters:
        headers = dict(record.headers)
        got_reasons[headers["reason"].decode()] = got_reasons.get(headers["reason"].decode(), 0) + 1
        assert not contains_personal_id((record.value or b"").decode("utf-8", "replace"))
        assert personnummer.encode() not in (record.value or b"")
    assert got_reasons == want_reasons
    assert worker.alive()


def test_unreachable_services_fail_fast_with_a_clear_message(redis_url, kafka_bootstrap, tmp_path):
    base = dict(os.environ, PYTHONPATH=str(REPO), CASEWATCH_WORKER_DATA_DIR=str(tmp_path / "d"))
    base.pop("CASEWATCH_CONFIG_FILE", None)
    no_redis = subprocess.run(WORKER_ARGV + ["--bootstrap", kafka_bootstrap, "--redis-url", "redis://127.0.0.1:1/0"],
                              env=base, cwd=REPO, capture_output=True, timeout=60)
    assert no_redis.returncode == 2
    assert b"Redis at redis://127.0.0.1:1/0 is unreachable" in no_redis.stderr
    no_kafka = subprocess.run(WORKER_ARGV + ["--bootstrap", "127.0.0.1:1", "--redis-url", redis_url],
                              env=base, cwd=REPO, capture_output=True, timeout=60)
    assert no_kafka.returncode == 2
    assert b"Kafka at 127.0.0.1:1 is unreachable" in no_kafka.stderr


# --- contract v2 on the streaming path -----------------------------------------------------------

FLOW_UNITS = ("mottagning-1", "bou-1", "bou-2", "vald-1", "behandling-1", "vuxen-1", "eb-1")
V2_KEYS_EXERCISED = ("transfers_in", "transfers_out", "investigations_linked_open", "enforcements_interrupted",
                     "protection_assessments_done_within_limit", "screenings_done_within_limit",
                     "child_investigations_closed_within_limit", "decisions_enforced_within_limit",
                     "placements_active_by_legal_basis")


def exported(target, as_of: float) -> dict:
    """The exporter's figures (``/metrics`` read back to contract keys) over the worker's projection."""
    from prometheus_client import CollectorRegistry, generate_latest

    from services.exporter.collector import KpiCollector
    from tests.prom_parse import figures_from_metrics, parse_metrics

    store = _store(target)
    try:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(KpiCollector(store, clock=lambda: as_of))
        return figures_from_metrics(parse_metrics(generate_latest(registry)))
    finally:
        store.client.close()


def test_v2_streaming_equals_replay_for_every_key_at_two_instants(kafka_bootstrap, worker_env, worker):
    """A simulated multi-unit file with transfers (intake -> investigation -> treatment), linked
    reopenings, LVU and interruptions: the worker's projection and the exporter's metrics give the
    replay's figures for every v2 key, at the latest event and six weeks before it. (The rebuild of a
    contract-v1 projection is covered by the unit test of the completeness marks.)"""
    env, topics = worker_env
    lines = lines_for(municipalities=2, population=20_000, months=4, seed=23, units_per_municipality=FLOW_UNITS)
    replay = Replay()
    replay.add_lines(lines)
    instants = (replay.latest, replay.latest - 42 * 86400)
    expected = {a: replay.result(a, Period.month_to_date(a))["units"] for a in instants}
    for key in V2_KEYS_EXERCISED:  # the file exercises every new figure, in some unit, at both instants
        for a in instants:
            assert any(f[key] for units in expected[a].values() for f in units.values()), (key, a)

    produce(kafka_bootstrap, topics.case_topic, lines)
    worker.start()
    latest = instants[0]
    wait_for(caught_up(env, expected[latest], latest, Period.month_to_date(latest)), 180, "the projection",
             worker, target=env)
    for a in instants:
        assert_identical(env, replay, a, Period.month_to_date(a))
        assert exported(env, a) == expected[a]


def test_with_a_unit_registry_unknown_units_are_dead_lettered_and_the_rest_equals_replay(
        kafka_bootstrap, worker_env, worker, tmp_path):
    """CONTRACT.md §7 on the worker's path: with `CASEWATCH_UNIT_REGISTRY_FILE` set, events of a
    unit not in the registry (in `unit` or `to_unit`) are dead-lettered `unknown_unit` and the
    projection equals a replay with the same registry."""
    env, topics = worker_env
    lines = lines_for(municipalities=1, population=6_000, months=2, seed=5)
    pairs = sorted({(e["municipality"], e["unit"]) for e in map(orjson.loads, lines)})
    assert len(pairs) > 1
    registered = set(pairs[1:])  # the first unit was never registered
    registry = tmp_path / "units.yaml"
    registry.write_text("units:\n" + "".join(f'  - {{municipality: "{m}", unit: {u}, name: Enhet {u}}}\n'
                                             for m, u in sorted(registered)), encoding="utf-8")
    env["CASEWATCH_UNIT_REGISTRY_FILE"] = str(registry)
    produce(kafka_bootstrap, topics.case_topic, lines)
    replay = Replay(registry=registered)
    replay.add_lines(lines)
    as_of = replay.latest
    period = Period.month_to_date(as_of)
    unknown = replay.rejected["unknown_unit"]
    assert unknown > 0 and set(replay.rejected) == {"unknown_unit"}

    worker.start()
    wait_for(caught_up(env, replay.result(as_of, period)["units"], as_of, period), 120, "the projection", worker,
             target=env)
    assert_identical(env, replay, as_of, period)
    assert dict(stats(env).rejected) == {"unknown_unit": unknown}
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=5000)
    consumer.assign([TopicPartition(topics.dead_letter_topic, p) for p in range(topics.partitions)])
    letters = []
    deadline = time.monotonic() + 30
    while len(letters) < unknown and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=1000).values():
            letters.extend(batch)
    consumer.close()
    assert len(letters) == unknown
    assert {dict(r.headers)["reason"] for r in letters} == {b"unknown_unit"}
    assert worker.alive()


def test_a_configured_link_window_gives_worker_and_replay_the_same_figures_and_a_restart_reprojects(
        kafka_bootstrap, worker_env, worker, tmp_path):
    """`CASEWATCH_INVESTIGATION_LINK_WINDOW_DAYS` on both paths: the worker's projection equals
    `casewatch replay --json` run with the same setting, and differs from the contract's 14 days.
    Restarted with the contract's window, the worker re-projects every case it holds."""
    from streams.core.clocks import clocks_with_link_window

    env, topics = worker_env
    # The first simulated file with investigations reopened 15-60 days after a no_action close
    # (so the two windows give different figures): the simulator draws them by chance, and a
    # change to its draws must not leave this test comparing two equal answers.
    for seed in range(11, 41):
        lines = lines_for(municipalities=1, population=12_000, months=3, seed=seed)
        wide, contract = Replay(clocks_with_link_window(60)), Replay()
        for replay in (wide, contract):
            replay.add_lines(lines)
        as_of = wide.latest
        period = Period.month_to_date(as_of)
        widened = wide.result(as_of, period)["units"]
        if widened != contract.result(as_of, period)["units"]:
            break
    else:
        pytest.fail("no simulated file of seeds 11-40 has an investigation reopened 15-60 days after its close")
    events_file = tmp_path / "events.jsonl"
    events_file.write_bytes(b"".join(raw.rstrip(b"\n") + b"\n" for raw in lines))

    env["CASEWATCH_INVESTIGATION_LINK_WINDOW_DAYS"] = "60"
    offline = subprocess.run([*WORKER_ARGV[:-1], "replay", str(events_file), "--json"], env=env, cwd=REPO,
                             capture_output=True, timeout=120)
    assert offline.returncode == 0, offline.stderr
    assert orjson.loads(offline.stdout)["units"] == widened
    produce(kafka_bootstrap, topics.case_topic, lines)
    worker.start()
    wait_for(caught_up(env, widened, as_of, period), 120, "the projection with a 60-day window", worker, target=env)

    worker.stop()
    env["CASEWATCH_INVESTIGATION_LINK_WINDOW_DAYS"] = "14"
    worker.start()
    wait_for(lambda: projected(env, as_of, period) == contract.result(as_of, period)["units"], 120,
             "the re-projection with the contract's window", worker, target=env)
    assert_identical(env, contract, as_of, period)
