"""The collector's caches between scrapes: samples computed ahead of their instant
(KpiCollector.prepare), a changed case recomputing only the units it names, and the exposition
text kept per municipality. Every scrape still equals compute() at its instant."""
from __future__ import annotations

from datetime import datetime

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from services.exporter import KpiCollector
from services.simulator import SimulationSpec, simulate
from streams.core.kpis import compute
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM, day_start, local_day
from streams.thresholds import load_thresholds, parse_thresholds
from tests.prom_parse import figures_from_metrics, parse_metrics
from tests.unit.services.test_exporter_collector import RawMemorySource
from tests.unit.services.test_exporter_snapshot import SnapshotSource


@pytest.fixture(scope="module")
def simulated():
    spec = SimulationSpec(municipalities=2, population=12_000, months=2, seed=5,
                          end=datetime(2024, 5, 17, 14, tzinfo=STOCKHOLM))
    replay = Replay()
    replay.add_lines(simulate(spec))
    return list(replay.facts()), replay.latest


class RawSnapshotSource(RawMemorySource, SnapshotSource):
    """Stored bytes keyed by case position (a changed case re-parses alone) and snapshots."""


def collector(source, now, thresholds=None):
    made = KpiCollector(source, thresholds=thresholds, clock=lambda: now["t"], wall_clock=lambda: 1e9)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(made)
    return registry, made


def figures(made):
    return figures_from_metrics(parse_metrics(made.exposition()))


def everything(source):
    return [f for m in sorted(source.facts) for f in source.facts[m]]


def test_samples_computed_ahead_are_swapped_in_and_equal_compute(simulated):
    facts, latest = simulated
    source = RawMemorySource(facts)
    start = latest - 86400 - 4 * 3600  # 09:56 the day before: office hours, then over midnight
    midnight = day_start(local_day(start) + 1)
    now = {"t": start}
    _, made = collector(source, now)
    assert made.prepare() == 0  # nothing read yet: nothing to prepare
    assert figures(made) == compute(facts, now["t"])
    prepared = recomputed = 0
    for window in ((start, start + 4 * 3600), (midnight - 600, midnight + 600)):
        now["t"] = window[0]
        figures(made)
        while now["t"] < window[1]:  # a scrape every 2 minutes, the thread's pass before each
            made.prepare(horizon=120)
            now["t"] += 120
            assert figures(made) == compute(facts, now["t"]), now["t"]
            prepared += made.last_scrape["prepared_units"]
            recomputed += made.last_scrape["recomputed_units"]
            if now["t"] - 120 < midnight <= now["t"]:  # every unit expired at midnight, all were ready
                assert made.last_scrape["prepared_units"] == made.last_scrape["units"]
    # a unit that changes twice between two scrapes is computed at the scrape; most were ready
    assert prepared > 5 * recomputed


def test_prepared_samples_are_not_used_under_other_thresholds(simulated):
    facts, latest = simulated
    source = RawMemorySource(facts)
    base = load_thresholds()
    strict = parse_thresholds({"defaults": {**base.defaults, "caseload_per_social_worker_max": 3},
                               "budgets_month_sek": dict(base.budgets)})
    current = {"thresholds": base}
    now = {"t": latest - 86400}
    _, made = collector(source, now, thresholds=lambda: current["thresholds"])
    figures(made)
    assert made.prepare(horizon=86400) > 0
    current["thresholds"] = strict
    now["t"] += 86400 - 1
    metrics = parse_metrics(made.exposition())
    assert made.last_scrape["prepared_units"] == 0
    assert made.last_scrape["recomputed_units"] == made.last_scrape["units"]
    assert figures_from_metrics(metrics) == compute(facts, now["t"])
    caseload = {value for (name, labels), value in metrics.items()
                if name == "casewatch_threshold" and dict(labels)["kind"] == "caseload_per_social_worker_max"}
    assert caseload == {3}


def test_a_changed_case_recomputes_only_the_units_it_names(simulated):
    facts, latest = simulated
    source = RawMemorySource(facts)
    now = {"t": latest + 0.5}  # not the latest event's instant: there a unit is recomputed at every scrape
    _, made = collector(source, now)
    figures(made)
    municipality = sorted(source.facts)[0]
    cases = source.facts[municipality]
    # a case of one unit takes the facts of a case of another unit (the stored bytes change)
    def named(case):
        return {n.unit for n in case.units}

    k = next(i for i, f in enumerate(cases) if f.reports and len(named(f)) == 1)
    j = next(i for i, f in enumerate(cases) if len(named(f)) == 1 and named(f) != named(cases[k]))
    touched = named(cases[k]) | named(cases[j])
    assert len(touched) < len(made._cache[municipality].units)  # other units exist
    cases[k] = cases[j]
    source.version[municipality] += 1
    made.prepare(horizon=86400)  # samples ahead of facts that are no longer current: dropped
    assert figures(made) == compute(everything(source), now["t"])
    assert made.last_scrape["recomputed_units"] == len(touched) == 2
    now["t"] += 6 * 3600
    assert figures(made) == compute(everything(source), now["t"])


def test_an_adopted_municipality_is_parsed_ahead_and_stays_exact(simulated):
    facts, latest = simulated
    source = RawSnapshotSource(facts)
    now = {"t": latest - 86400}
    _, first = collector(source, now)
    expected = first.exposition()
    source.reads.clear()
    _, restarted = collector(source, now)
    assert restarted.exposition() == expected  # to the byte: the lines come with the snapshot
    assert source.reads == []
    restarted.prepare(horizon=86400)  # every unit expires by the next midnight: all parsed here
    assert sorted(source.reads) == sorted(source.facts)
    source.reads.clear()
    while now["t"] < latest:
        now["t"] += 3600
        assert figures(restarted) == compute(facts, now["t"]), now["t"]
    assert source.reads == []  # the scrapes read no facts: the thread did


def test_the_cached_text_is_what_the_registry_writes_after_every_change(simulated):
    facts, latest = simulated
    source = RawMemorySource(facts)
    now = {"t": latest - 86400}
    registry, made = collector(source, now)
    body = made.exposition()
    assert made.exposition() == body == generate_latest(registry)
    municipality = sorted(source.facts)[-1]
    source.facts[municipality] = source.facts[municipality][:-3]
    source.version[municipality] += 1
    for _ in range(6):
        now["t"] += 4 * 3600
        made.prepare(horizon=4 * 3600)
        assert made.exposition() == generate_latest(registry)
