"""A restarted exporter adopts its predecessor's computed samples (services/exporter/snapshot.py)
and serves exactly what a cold start computes, reading only the facts it needs."""
from __future__ import annotations

from datetime import datetime

import pytest

from services.exporter.snapshot import SNAPSHOT_FORMAT
from services.simulator import SimulationSpec, simulate
from streams.core.kpis import compute
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM
from streams.thresholds import load_thresholds, parse_thresholds
from tests.prom_parse import figures_from_metrics, parse_metrics
from tests.unit.services.test_exporter_collector import MemorySource, collector_for


class SnapshotSource(MemorySource):
    """The in-memory facts source that also keeps the exporter's snapshots, as Redis does."""

    def __init__(self, facts) -> None:
        super().__init__(facts)
        self.snapshots: dict[str, bytes] = {}

    def read_exporter_snapshots(self, municipalities):
        self._check()
        return {m: self.snapshots.get(m) for m in municipalities}

    def write_exporter_snapshots(self, documents):
        self._check()
        self.snapshots.update(documents)


@pytest.fixture(scope="module")
def simulated():
    spec = SimulationSpec(municipalities=3, population=15_000, months=3, seed=8,
                          end=datetime(2024, 5, 17, 14, tzinfo=STOCKHOLM))
    replay = Replay()
    replay.add_lines(simulate(spec))
    return list(replay.facts()), replay.latest


def figures(collector):
    return figures_from_metrics(parse_metrics(collector.exposition()))


def test_a_restart_adopts_the_snapshot_reads_no_facts_and_stays_exact_as_time_passes(simulated):
    facts, latest = simulated
    source = SnapshotSource(facts)
    now = {"t": latest - 2 * 86400}
    _, first = collector_for(source, as_of=lambda: now["t"])
    expected = figures(first)
    assert set(source.snapshots) == set(source.facts)  # the first scrape keeps them at once
    source.reads.clear()

    _, restarted = collector_for(source, as_of=lambda: now["t"])
    assert figures(restarted) == expected == compute(facts, now["t"])
    assert source.reads == []  # nothing parsed: every unit's samples were still valid
    assert restarted.last_scrape["recomputed_units"] == 0

    # every 20 minutes over two days (midnights, deadlines): units expire, their municipality is
    # parsed when first needed, and every scrape still equals compute()
    while now["t"] < latest:
        now["t"] += 1200
        assert figures(restarted) == compute(facts, now["t"]), now["t"]
    assert set(source.reads) == set(source.facts)


def test_only_a_changed_municipality_is_parsed_and_other_rules_ignore_the_snapshot(simulated):
    facts, latest = simulated
    source = SnapshotSource(facts)
    _, first = collector_for(source, as_of=latest)
    figures(first)
    changed = sorted(source.facts)[0]
    source.facts[changed] = source.facts[changed][:-5]  # the worker wrote since: a new version
    source.version[changed] += 1
    source.reads.clear()

    _, restarted = collector_for(source, as_of=latest)
    everything = [f for m in sorted(source.facts) for f in source.facts[m]]
    assert figures(restarted) == compute(everything, latest)
    assert source.reads == [changed]

    # other thresholds: no snapshot fits, everything is parsed (and the figures are exact)
    source.reads.clear()
    base = load_thresholds()
    other = parse_thresholds({"defaults": {**base.defaults, "caseload_per_social_worker_max": 3},
                              "budgets_month_sek": dict(base.budgets)})
    _, strict = collector_for(source, as_of=latest, thresholds=other)
    assert figures(strict) == compute(everything, latest)
    assert sorted(source.reads) == sorted(source.facts)


def test_a_snapshot_that_does_not_parse_or_is_of_another_format_is_ignored(simulated):
    facts, latest = simulated
    source = SnapshotSource(facts)
    _, first = collector_for(source, as_of=latest)
    expected = figures(first)
    broken, older = sorted(source.snapshots)[:2]
    source.snapshots[broken] = b'{"format": 1, "units": [not json'
    source.snapshots[older] = source.snapshots[older].replace(b'"format":%d' % SNAPSHOT_FORMAT, b'"format":0')
    source.reads.clear()
    _, restarted = collector_for(source, as_of=latest)
    assert figures(restarted) == expected
    assert sorted(source.reads) == sorted([broken, older])
