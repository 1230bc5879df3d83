"""The exporter against the real Redis projection, and `casewatch exporter` over HTTP."""
from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from services.exporter import KpiCollector
from tests.prom_parse import figures_from_metrics, parse_metrics
from streams.projection import PipelineHealth, RedisProjection
from streams.contract.validate import parse_instant
from streams.core.facts import facts_to_json, fold_case
from streams.core.kpis import Period, compute
from tests.events import ev
from tests.unit.services.test_exporter_collector import AS_OF, handcrafted, replayed

REPO = Path(__file__).resolve().parents[2]


def project(store: RedisProjection, replay) -> None:
    """What the worker does: each case's folded facts into the projection."""
    store.write_cases((mun, case_id, facts_to_json(fold_case(mun, records.values())))
                      for (mun, case_id), records in replay.cases.items())


@pytest.fixture(params=[RedisProjection], ids=["store"])
def store(request, redis_url):
    s = request.param.from_url(redis_url, prefix="cwtest")
    yield s
    s.client.close()


def registry_for(store, as_of=AS_OF):
    instant = parse_instant(as_of)
    registry = CollectorRegistry(auto_describe=False)
    collector = KpiCollector(store, clock=lambda: instant)
    registry.register(collector)
    return registry, collector


def test_figures_from_redis_equal_compute(store):
    replay = replayed(handcrafted())
    project(store, replay)
    store.record_pipeline(PipelineHealth("worker", {"accepted": replay.accepted, "duplicate": 0, "rejected": 1},
                                         {"bad_value": 1}, newest_event_ts=replay.latest, consumer_lag=0))
    registry, collector = registry_for(store)
    as_of = parse_instant(AS_OF)
    samples = parse_metrics(generate_latest(registry))
    assert figures_from_metrics(samples) == compute(replay.facts(as_of), as_of, Period.month_to_date(as_of))
    get = registry.get_sample_value
    assert get("casewatch_redis_up") == 1
    assert get("casewatch_events_total", {"outcome": "accepted"}) == replay.accepted
    assert get("casewatch_events_rejected_total", {"reason": "bad_value"}) == 1
    assert get("casewatch_consumer_lag_messages") == 0
    assert get("casewatch_newest_event_age_seconds") == as_of - replay.latest
    assert 0 <= get("casewatch_worker_heartbeat_age_seconds") < 60
    assert get("casewatch_caseload_per_social_worker", {"municipality": "0138", "unit": "eb-1"}) is None
    assert get("casewatch_threshold", {"municipality": "0138", "unit": "bou-1",
                                       "kind": "reports_awaiting_screening_max"}) is not None

    # the worker writes one more case: only its municipality is read again, figures follow
    more = replayed(handcrafted() + [ev("investigation.opened", "2024-05-15T10:00:00+02:00", case="k9", mun="0180",
                                        unit="bou-a", area="vuxna")])
    store.write_cases([("0180", "k9", facts_to_json(fold_case("0180", more.cases[("0180", "k9")].values())))])
    assert figures_from_metrics(parse_metrics(generate_latest(registry))) == compute(more.facts(as_of), as_of)
    assert get("casewatch_investigations_open", {"municipality": "0180", "unit": "bou-a"}) == 1
    assert collector.cached_cases == len(more.cases)


def test_a_restarted_exporter_adopts_the_samples_its_predecessor_kept_in_redis(store):
    replay = replayed(handcrafted())
    project(store, replay)
    _, first = registry_for(store)
    expected = figures_from_metrics(parse_metrics(first.exposition()))
    assert store.client.exists(f"{store.prefix}:exporter:0138")  # the snapshot is in Redis
    _, restarted = registry_for(store)
    reads = []
    read_facts_raw = store.read_facts_raw
    store.read_facts_raw = lambda municipality: reads.append(municipality) or read_facts_raw(municipality)
    assert figures_from_metrics(parse_metrics(restarted.exposition())) == expected
    assert reads == [] and restarted.last_scrape["recomputed_units"] == 0


def test_redis_unreachable_gives_redis_up_0_without_raising():
    store = RedisProjection.from_url("redis://127.0.0.1:1/0")
    registry, _ = registry_for(store)
    started = time.monotonic()
    samples = parse_metrics(generate_latest(registry))
    assert time.monotonic() - started < 5
    assert samples == {("casewatch_redis_up", frozenset()): 0.0}


# --- the command --------------------------------------------------------------------------------

def _exporter_argv() -> list[str]:
    from services import commands

    names = {c.name or (c.callback.__name__ if c.callback else None) for c in commands.app.registered_commands}
    assert "exporter" in names
    return [sys.executable, "-m", "services.commands", "exporter"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(redis_url: str, port: int) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "CASEWATCH_REDIS_URL": redis_url,
           "CASEWATCH_REDIS_PREFIX": "cwtest", "CASEWATCH_EXPORTER_PORT": str(port), "CASEWATCH_AS_OF": AS_OF}
    env.pop("CASEWATCH_CONFIG_FILE", None)
    return env


def _get(url: str, timeout: float = 5) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


class Exporter:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(_exporter_argv(), env=env, cwd=REPO, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            try:
                assert _get(self.base + "/healthz", 1) == b"ok\n"
                return
            except (OSError, urllib.error.URLError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"exporter did not come up: {self.proc.stderr.read().decode()}")
                time.sleep(0.2)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def test_command_serves_metrics_on_loopback(redis_url):
    replay = replayed(handcrafted())
    store = RedisProjection.from_url(redis_url, prefix="cwtest")
    project(store, replay)
    store.client.close()
    port = _free_port()
    exporter = Exporter(_env(redis_url, port), port)
    try:
        first = parse_metrics(_get(exporter.base + "/metrics"))
        assert figures_from_metrics(first) == replay.result(parse_instant(AS_OF))["units"]
        assert first[("casewatch_redis_up", frozenset())] == 1
        assert any(name.startswith("process_") for name, _ in first)
        assert parse_metrics(_get(exporter.base + "/metrics")).keys() == first.keys()
        # as Prometheus asks: gzip (written part by part, one stream) with its length declared
        request = urllib.request.Request(exporter.base + "/metrics", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            body = response.read()
            assert int(response.headers["Content-Length"]) == len(body)
        assert figures_from_metrics(parse_metrics(gzip.decompress(body))) == figures_from_metrics(first)
        with pytest.raises(urllib.error.HTTPError):
            _get(exporter.base + "/nothing-here")
    finally:
        code = exporter.stop()
    assert code == 0, exporter.proc.stderr.read().decode()


def test_command_with_redis_down_still_answers():
    port = _free_port()
    # the broker-read lag (casewatch_kafka_up, casewatch_group_*) is another source, served
    # whatever Redis does: tests/faults/test_redis_faults.py shows both together
    exporter = Exporter({**_env("redis://127.0.0.1:1/0", port), "CASEWATCH_EXPORTER_LAG_INTERVAL_S": "0"}, port)
    try:
        samples = parse_metrics(_get(exporter.base + "/metrics"))
        assert samples[("casewatch_redis_up", frozenset())] == 0
        assert not any(name.startswith("casewatch_") and name != "casewatch_redis_up" for name, _ in samples)
    finally:
        exporter.stop()


def test_command_exits_clearly_when_the_port_is_taken(redis_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(_exporter_argv(), env=_env(redis_url, port), cwd=REPO, capture_output=True,
                                timeout=30)
    assert result.returncode == 2
    assert b"already in use" in result.stderr and b"Traceback" not in result.stderr


def test_several_workers_report_one_lag_and_the_latest_heartbeat(redis_url):
    """Each worker writes its own lag and heartbeat; readers see the lag of the workers alive
    (a silent worker's partitions have moved to the others) and the latest heartbeat; a worker
    that leaves cleanly takes its fields with it."""
    store = RedisProjection.from_url(redis_url, prefix="cwworkers")
    try:
        store.record_pipeline(PipelineHealth("a", {"accepted": 5}, {}, 100.0, 7))
        store.record_pipeline(PipelineHealth("b", {"accepted": 3}, {"bad_value": 1}, 90.0, 4))
        now = time.time()
        stats = store.pipeline_stats(now)
        assert stats.consumer_lag == 11
        assert stats.events["accepted"] == 8
        assert stats.newest_event_ts == 100.0
        assert now - 5 < stats.heartbeat_ts <= now

        # 40 s later only b has written again: a's lag is no longer counted
        later = now + 40
        store.client.hset("cwworkers:pipeline", "heartbeat:b", repr(later))
        stats = store.pipeline_stats(later)
        assert stats.consumer_lag == 4
        assert stats.heartbeat_ts == later

        store.forget_worker("b")
        stats = store.pipeline_stats(later)
        assert stats.consumer_lag is None  # a is silent, b is gone
        assert stats.heartbeat_ts < later
    finally:
        store.client.close()
