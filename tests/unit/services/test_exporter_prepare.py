"""The collector's caches between scrapes: samples computed ahead of their instant
(KpiCollector.prepare), a changed case recomputing only the units it names, and the exposition
text kept per municipality and family (text.py). Every scrape still equals compute() at its
instant, and its text is byte-identical to a cold start's at that instant."""
from __future__ import annotations

import operator
from datetime import datetime

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from services.exporter import KpiCollector
from services.exporter.metrics import UNIT_FAMILIES
from services.simulator import SimulationSpec, simulate
from streams.core.kpis import compute
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM, day_start, local_day
from streams.core.facts import CaseFacts
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


def thresholds_and_stricter():
    """The project's thresholds and the same with a caseload maximum of 3."""
    base = load_thresholds()
    return base, parse_thresholds({"defaults": {**base.defaults, "caseload_per_social_worker_max": 3},
                                   "budgets_month_sek": dict(base.budgets)})


def test_prepared_samples_are_not_used_under_other_thresholds(simulated):
    facts, latest = simulated
    source = RawMemorySource(facts)
    base, strict = thresholds_and_stricter()
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


def cold(source, now, thresholds=None) -> bytes:
    """What a collector started at this instant serves: nothing kept from earlier scrapes."""
    return collector(source, now, thresholds)[1].exposition()


def named(case: CaseFacts) -> set[str]:
    return {n.unit for n in case.units}


def test_only_the_families_whose_text_changed_are_joined_again(simulated):
    facts, latest = simulated
    source = RawMemorySource(facts)
    now = {"t": latest + 0.5}
    registry, made = collector(source, now)
    before = made.exposition_parts()
    municipality = sorted(source.facts)[0]
    cases = source.facts[municipality]
    # one case of one unit takes the facts of a case of another unit: two units change
    k = next(i for i, f in enumerate(cases) if f.reports and len(named(f)) == 1)
    j = next(i for i, f in enumerate(cases) if len(named(f)) == 1 and named(f) != named(cases[k]))
    cases[k] = cases[j]
    source.version[municipality] += 1
    made.exposition(["casewatch_unit_info"])  # a scrape of one family (name[]) sees the change first
    assert made.last_scrape["recomputed_units"] == 2
    after = made.exposition_parts()
    assert b"".join(after) == cold(source, now) == generate_latest(registry)
    # one part per unit family, then the pipeline's: a family's text is the same object as
    # before exactly when it is the same text, and most families did not change
    families = list(zip(before[:-1], after[:-1]))
    assert len(families) == len(UNIT_FAMILIES)
    assert all((old is new) == (old == new) for old, new in families)
    assert 0 < sum(old is not new for old, new in families) < len(families) / 2
    assert made.exposition_parts()[:-1] == after[:-1]  # nothing changed: every family kept
    assert all(map(operator.is_, made.exposition_parts()[:-1], after[:-1]))


def test_the_kept_text_follows_vanished_lines_a_municipality_gone_and_new_thresholds(simulated):
    facts, _latest = simulated
    source = RawMemorySource(facts)
    base, strict = thresholds_and_stricter()
    current = {"thresholds": base}
    june = datetime(2024, 6, 1, tzinfo=STOCKHOLM).timestamp()
    now = {"t": june - 60}
    registry, made = collector(source, now, thresholds=lambda: current["thresholds"])
    scraped = {}  # made's last scrape (generate_latest scrapes again)

    def exact() -> bytes:
        body = made.exposition()
        scraped.update(made.last_scrape)
        assert body == cold(source, now, lambda: current["thresholds"]) == generate_latest(registry)
        assert figures_from_metrics(parse_metrics(body)) == compute(everything(source), now["t"])
        return body

    mean = b"\ncasewatch_month_investigation_days_mean{"
    assert mean in exact()
    now["t"] = june + 60  # a new month: nothing closed in it yet, so every unit's mean is absent
    body = exact()
    assert mean not in body and b"# TYPE casewatch_month_investigation_days_mean gauge\n" in body
    gone = sorted(source.facts)[0]
    del source.facts[gone], source.version[gone]
    assert f'municipality="{gone}"'.encode() not in exact()
    current["thresholds"] = strict
    metrics = parse_metrics(exact())
    assert scraped["recomputed_units"] == scraped["units"]
    assert {value for (name, labels), value in metrics.items()
            if name == "casewatch_threshold" and dict(labels)["kind"] == "caseload_per_social_worker_max"} == {3}
