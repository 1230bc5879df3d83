"""Redis taken away under a running exporter, and Redis holding what a contract-v1 worker left
behind (docs/OPERATIONS.md): figures keep being served marked stale, and the worker rebuilds an
old projection by itself. Each ends identical to the replay without operator action."""
from __future__ import annotations

from datetime import datetime, timezone

import orjson

from tests.faults.outage import service_down
from tests.faults.support import assert_all_identical, stats
from tests.integration.test_exporter import Exporter, _free_port, _get
from streams.core.facts import facts_from_json
from streams.core.kpis import compute
from tests.integration.test_worker import (  # noqa: F401 - fixtures
    FLOW_UNITS, _store, caught_up, lines_for, produce, projected, reference, wait_for, worker, worker_env)
from tests.prom_parse import figures_from_metrics, parse_metrics


def _scrape(exporter: Exporter) -> dict:
    return parse_metrics(_get(exporter.base + "/metrics", timeout=30))


def test_redis_down_the_exporter_keeps_the_last_figures_marked_stale(kafka_bootstrap, worker_env, worker):
    """While Redis is away the exporter answers with the figures it last read (alerts that fire
    keep firing), ``casewatch_redis_up 0`` and ``casewatch_projection_stale 1``; the broker-read
    lag is served beside them. When Redis is back (empty: the stack's Redis keeps no data), the
    worker re-projects and the exporter serves fresh figures equal to the replay."""
    env, topics = worker_env
    lines = lines_for(municipalities=2, population=8_000, months=2, seed=17)
    replay, as_of, period = reference(lines)
    expected = replay.result(as_of, period)
    produce(kafka_bootstrap, topics.case_topic, lines)
    worker.start()
    wait_for(caught_up(env, expected["units"], as_of, period), 120, "the projection", worker, target=env)
    port = _free_port()
    exporter_env = {**env, "CASEWATCH_EXPORTER_PORT": str(port), "CASEWATCH_EXPORTER_LAG_INTERVAL_S": "1",
                    "CASEWATCH_AS_OF": datetime.fromtimestamp(as_of, timezone.utc).isoformat()}
    exporter = Exporter(exporter_env, port)
    try:
        def healthy() -> bool:
            s = _scrape(exporter)
            return (figures_from_metrics(s) == expected["units"] and s.get(("casewatch_kafka_up", frozenset())) == 1
                    and s.get(("casewatch_group_lag_messages", frozenset({("topic", topics.case_topic)}))) == 0)

        wait_for(healthy, 60, "the exporter's figures and the broker-read lag of 0", worker)
        before = _scrape(exporter)
        assert before[("casewatch_projection_stale", frozenset())] == 0
        with service_down("redis", 8):
            wait_for(lambda: _scrape(exporter)[("casewatch_redis_up", frozenset())] == 0, 20, "redis_up 0")
            during = _scrape(exporter)
            assert during[("casewatch_projection_stale", frozenset())] == 1
            assert figures_from_metrics(during) == expected["units"]  # the last figures, not gone
            assert during[("casewatch_projection_last_read_age_seconds", frozenset())] > 0
        wait_for(lambda: figures_from_metrics(s := _scrape(exporter)) == expected["units"]
                 and s[("casewatch_redis_up", frozenset())] == 1
                 and s[("casewatch_projection_stale", frozenset())] == 0, 90,
                 "fresh figures after Redis came back", worker, target=env)
        assert_all_identical(replay, as_of, period, env, kafka_bootstrap)
        assert stats(env).events["accepted"] == expected["events"]["accepted"]  # exact after the wipe
    finally:
        exporter.stop()


def test_a_contract_v1_projection_is_rebuilt_by_the_worker(kafka_bootstrap, worker_env, worker):
    """Redis as the contract-v1 worker left it: v1 facts (no transfers, no named units), complete
    marks "1", no write marks, no case counts, no fences. The running worker notices and
    re-projects every case; a restarted worker finds it so too."""
    env, topics = worker_env
    # units with transfers between them: v1 facts (no transfers, no named units) give other figures
    lines = lines_for(municipalities=2, population=8_000, months=3, seed=29, units_per_municipality=FLOW_UNITS)
    replay, as_of, period = reference(lines)
    expected = replay.result(as_of, period)
    produce(kafka_bootstrap, topics.case_topic, lines)
    worker.start()
    wait_for(caught_up(env, expected["units"], as_of, period), 120, "the projection", worker, target=env)

    def leave_a_v1_projection() -> list:
        store = _store(env)
        prefix = env["CASEWATCH_REDIS_PREFIX"]
        try:
            client = store.client
            v1 = {m: {case: orjson.dumps(orjson.loads(raw)[:8]) for case, raw in store.read_facts_raw(m).items()}
                  for m in store.municipalities()}
            for key in list(client.scan_iter(f"{prefix}:*")):
                client.delete(key)
            for municipality, facts in v1.items():
                client.hset(f"{prefix}:facts:{municipality}", mapping=facts)
                client.set(f"{prefix}:version:{municipality}", 1)
                client.sadd(f"{prefix}:municipalities", municipality)
            for partition in range(topics.partitions):
                client.set(f"{prefix}:complete:{partition}", 1)
        finally:
            store.client.close()
        return [facts_from_json(raw) for facts in v1.values() for raw in facts.values()]

    def rebuilt() -> bool:
        return (projected(env, as_of, period) == expected["units"]
                and stats(env).events.get("accepted") == expected["events"]["accepted"])

    v1_facts = leave_a_v1_projection()
    assert compute(v1_facts, as_of, period) != expected["units"]  # the v1 projection is wrong
    took = wait_for(rebuilt, 60, "the running worker's rebuild of a v1 projection", worker, interval=0.2, target=env)
    assert_all_identical(replay, as_of, period, env, kafka_bootstrap)
    assert stats(env).events["accepted"] == expected["events"]["accepted"]
    print(f"v1 projection rebuilt in {took:.1f}s")

    worker.stop()
    leave_a_v1_projection()
    worker.start()
    wait_for(rebuilt, 90, "a restarted worker's rebuild of a v1 projection", worker, interval=0.2, target=env)
    assert_all_identical(replay, as_of, period, env, kafka_bootstrap)
