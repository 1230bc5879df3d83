"""The exporter's collector on a fresh registry, over an in-memory facts source.

The Redis-backed source and the HTTP server are tested in tests/integration/test_exporter.py.
"""
from __future__ import annotations

import gzip
import math

import pytest
import redis
from prometheus_client import CollectorRegistry, generate_latest

from streams.projection import PipelineStats
from streams.thresholds import parse_thresholds
from services.exporter import KpiCollector
from services.exporter.metrics import KPI_METRICS
from tests.prom_parse import figures_from_metrics, parse_metrics
from streams.projection import OUTCOMES
from streams.contract.catalogue import EMPLOYMENTS, PLACEMENT_TYPES
from streams.contract.validate import REASONS, parse_instant
from streams.core.facts import facts_from_json, facts_to_json
from streams.core.kpis import Period, compute
from streams.core.replay import Replay
from tests.events import ev, line

AS_OF = "2024-05-17T14:00:00+02:00"


def handcrafted() -> list[dict]:
    """A little of everything, on two units of 0138 and one of 0180 (plus a unit of 0180 whose
    only event lies after AS_OF: it must not be exported yet)."""
    e = []
    # bou-1: reports, clocks, an investigation with an extension, a decision, placements, staff
    e += [ev("report.received", "2024-05-02T09:00:00+02:00", case="c1", reporter="skola"),
          ev("report.received", "2024-04-20T09:00:00+02:00", case="c2", reporter="polis"),
          ev("report.protection_assessed", "2024-04-20T12:00:00+02:00", case="c2", immediate_protection=False),
          ev("report.received", "2024-05-16T09:00:00+02:00", case="c3", reporter="anonym"),
          ev("report.received", "2024-03-01T09:00:00+01:00", case="c4", reporter="skola"),
          ev("report.screened", "2024-03-10T09:00:00+01:00", case="c4", outcome="investigation_opened"),
          ev("investigation.opened", "2024-03-10T10:00:00+01:00", case="c4", area="barn_unga"),
          ev("investigation.opened", "2024-01-02T10:00:00+01:00", case="c5", area="barn_unga"),
          ev("investigation.extended", "2024-04-30T10:00:00+02:00", case="c5", new_due="2024-07-02T10:00:00+02:00"),
          ev("investigation.opened", "2024-02-01T10:00:00+01:00", case="c6", area="barn_unga"),
          ev("investigation.closed", "2024-05-06T10:00:00+02:00", case="c6", outcome="decision"),
          ev("decision.made", "2024-05-06T11:00:00+02:00", case="c6", decision_id="d1", intervention="placement"),
          ev("decision.made", "2024-01-06T11:00:00+01:00", case="c6", decision_id="d2", intervention="kontaktperson"),
          ev("placement.started", "2024-05-08T12:00:00+02:00", case="c6", placement_id="p1", placement_type="hvb",
             daily_cost_sek=4200.5),
          ev("placement.cost_changed", "2024-05-12T00:30:00+02:00", case="c6", placement_id="p1", daily_cost_sek=3900),
          ev("placement.started", "2024-04-01T12:00:00+02:00", case="c7", placement_id="p2",
             placement_type="familjehem", daily_cost_sek=900),
          ev("placement.ended", "2024-05-03T12:00:00+02:00", case="c7", placement_id="p2"),
          ev("staff.joined", "2024-01-01T08:00:00+01:00", case="s1", staff_id="s1", role="socialsekreterare",
             employment="permanent", fte=0.8),
          ev("staff.joined", "2024-04-15T08:00:00+02:00", case="s2", staff_id="s2", role="socialsekreterare",
             employment="consultant", fte=1, daily_cost_sek=7000),
          ev("staff.joined", "2024-02-01T08:00:00+01:00", case="s3", staff_id="s3", role="behandlare",
             employment="permanent"),
          ev("staff.left", "2024-05-10T17:00:00+02:00", case="s3", staff_id="s3")]
    # eb-1: economic assistance only (no social worker: caseload null; no closure: mean null)
    e += [ev("application.received", "2024-05-02T09:00:00+02:00", case="a1", unit="eb-1"),
          ev("application.decided", "2024-05-09T09:00:00+02:00", case="a1", unit="eb-1", granted=True),
          ev("payment.made", "2024-05-10T09:00:00+02:00", case="a1", unit="eb-1", amount_sek=5123.25),
          ev("payment.made", "2024-04-10T09:00:00+02:00", case="a1", unit="eb-1", amount_sek=4000)]
    # 0180: one unit now, one only in the future
    e += [ev("report.received", "2024-05-01T09:00:00+02:00", case="k1", unit="bou-a", mun="0180", reporter="skola"),
          ev("report.received", "2024-05-20T09:00:00+02:00", case="k2", unit="bou-future", mun="0180",
             reporter="skola")]
    return e


class MemorySource:
    """A facts source in memory that counts reads and can be switched off like Redis."""

    def __init__(self, facts, stats=None) -> None:
        self.facts: dict[str, list] = {}
        for f in facts:
            self.facts.setdefault(f.municipality, []).append(facts_from_json(facts_to_json(f)))
        self.version = {m: 1 for m in self.facts}
        self.stats = stats or {}
        self.reads: list[str] = []
        self.down = False

    def _check(self):
        if self.down:
            raise redis.ConnectionError("Connection refused")

    def municipalities(self):
        self._check()
        return sorted(self.facts)

    def versions(self, municipalities):
        self._check()
        return {m: self.version[m] for m in municipalities}

    def read_facts_raw(self, municipality):
        """The stored bytes per case, keyed by position (a changed list re-parses whole)."""
        self._check()
        self.reads.append(municipality)
        return {f"case-{self.version[municipality]}-{i}".encode(): facts_to_json(f)
                for i, f in enumerate(self.facts[municipality])}

    def pipeline_stats(self):
        self._check()
        return PipelineStats.from_fields(self.stats)


class RawMemorySource(MemorySource):
    """Also hands out the stored bytes per case, like the Redis source."""

    def read_facts_raw(self, municipality):
        self._check()
        self.reads.append(municipality)
        return {f"case-{i}".encode(): facts_to_json(f) for i, f in enumerate(self.facts[municipality])}


def replayed(events):
    r = Replay()
    r.add_lines(line(x) for x in events)
    return r


def collector_for(source, as_of=AS_OF, thresholds=None, wall=None):
    instant = parse_instant(as_of) if isinstance(as_of, str) else as_of
    clock = (lambda: instant) if not callable(as_of) else as_of
    registry = CollectorRegistry(auto_describe=False)
    collector = KpiCollector(source, thresholds=thresholds, clock=clock, wall_clock=wall or (lambda: 1e9))
    registry.register(collector)
    return registry, collector


def scrape(registry):
    return parse_metrics(generate_latest(registry))


@pytest.fixture
def world():
    replay = replayed(handcrafted())
    return replay, MemorySource(list(replay.facts()))


def test_every_kpi_equals_compute(world):
    replay, source = world
    registry, _ = collector_for(source)
    as_of = parse_instant(AS_OF)
    expected = compute(replay.facts(as_of), as_of, Period.month_to_date(as_of))
    assert set(expected) == {"0138", "0180"} and set(expected["0180"]) == {"bou-a"}
    assert figures_from_metrics(scrape(registry)) == expected
    assert figures_from_metrics(scrape(registry)) == replay.result(as_of)["units"]
    # and sample by sample through get_sample_value, for a few that matter
    unit = {"municipality": "0138", "unit": "bou-1"}
    figures = expected["0138"]["bou-1"]
    for metric in KPI_METRICS:
        if metric.category:
            for category in metric.values:
                assert registry.get_sample_value(metric.name, {**unit, metric.category: category}) == \
                    figures[metric.key].get(category, 0)
        elif figures[metric.key] is not None:
            assert registry.get_sample_value(metric.name, unit) == figures[metric.key]
    assert figures["investigations_open"] == 2 and figures["placement_cost_sek"]["hvb"] > 0


def test_category_series_exist_at_zero_for_every_unit(world):
    _, source = world
    registry, _ = collector_for(source)
    samples = scrape(registry)
    for mun, unit in [("0138", "bou-1"), ("0138", "eb-1"), ("0180", "bou-a")]:
        place = {"municipality": mun, "unit": unit}
        for name in ("casewatch_placements_active", "casewatch_month_placement_days",
                     "casewatch_month_placement_cost_sek", "casewatch_month_placements_mean"):
            for t in PLACEMENT_TYPES:
                assert registry.get_sample_value(name, {**place, "placement_type": t}) is not None, (name, t)
        for employment in EMPLOYMENTS:
            assert registry.get_sample_value("casewatch_staff_active_fte", {**place, "employment": employment}) \
                is not None
    assert registry.get_sample_value("casewatch_placements_active",
                                     {"municipality": "0180", "unit": "bou-a", "placement_type": "sis"}) == 0
    for outcome in OUTCOMES:
        assert registry.get_sample_value("casewatch_events_total", {"outcome": outcome}) == 0
    for reason in REASONS:
        assert registry.get_sample_value("casewatch_events_rejected_total", {"reason": reason}) == 0
    # every label is bounded: no case, staff or placement id anywhere
    values = {v for (_n, labels) in samples for _k, v in labels}
    assert not values & {"c1", "c6", "s1", "s2", "p1", "d1", "a1", "k1"}


def test_null_kpis_are_absent(world):
    _, source = world
    registry, _ = collector_for(source)
    eb = {"municipality": "0138", "unit": "eb-1"}
    bou = {"municipality": "0138", "unit": "bou-1"}
    assert registry.get_sample_value("casewatch_caseload_per_social_worker", eb) is None
    assert registry.get_sample_value("casewatch_month_investigation_days_mean", eb) is None
    assert registry.get_sample_value("casewatch_month_application_wait_days_mean", eb) == 7
    assert registry.get_sample_value("casewatch_month_application_wait_days_mean", bou) is None
    assert registry.get_sample_value("casewatch_caseload_per_social_worker", bou) == pytest.approx(2 / 1.8)
    assert registry.get_sample_value("casewatch_month_investigation_days_mean", bou) is not None
    # the unit whose only event is after as_of does not exist yet
    assert registry.get_sample_value("casewatch_reports_received_last_7d",
                                     {"municipality": "0180", "unit": "bou-future"}) is None


def test_thresholds_and_budget_pace(world):
    _, source = world
    thresholds = parse_thresholds({
        "defaults": {"reports_awaiting_screening_max": 40, "investigations_open_max": 120,
                     "decisions_not_enforced_max": 10, "caseload_per_social_worker_max": 14,
                     "consultant_share_max": 0.2, "inflow_spike_ratio": 1.5, "inflow_spike_min_reports": 10,
                     "budget_deviation_pct": 2},
        "budgets_month_sek": {"placements": 3_100_000, "consultants": 310_000, "economic_assistance": 0},
        "overrides": [{"municipality": "0138", "unit": "bou-1", "values": {"reports_awaiting_screening_max": 30},
                       "budgets_month_sek": {"placements": 6_200_000}},
                      {"municipality": "0180", "values": {"investigations_open_max": 50}}],
    })
    registry, _ = collector_for(source, thresholds=thresholds)

    def threshold(mun, unit, kind):
        return registry.get_sample_value("casewatch_threshold", {"municipality": mun, "unit": unit, "kind": kind})

    assert threshold("0138", "bou-1", "reports_awaiting_screening_max") == 30
    assert threshold("0138", "eb-1", "reports_awaiting_screening_max") == 40
    assert threshold("0180", "bou-a", "investigations_open_max") == 50
    assert threshold("0138", "bou-1", "consultant_share_max") == 0.2
    for kind in thresholds.kinds:
        assert threshold("0138", "eb-1", kind) is not None

    def budget(mun, unit, category):
        return registry.get_sample_value("casewatch_budget_month_to_date_sek",
                                         {"municipality": mun, "unit": unit, "category": category})

    # 17 May: 17 of 31 days elapsed, today included
    assert budget("0138", "bou-1", "placements") == pytest.approx(6_200_000 * 17 / 31)
    assert budget("0138", "eb-1", "placements") == pytest.approx(3_100_000 * 17 / 31)
    assert budget("0180", "bou-a", "consultants") == pytest.approx(310_000 * 17 / 31)
    assert budget("0180", "bou-a", "economic_assistance") == 0


def test_budget_pace_on_the_first_and_last_day(world):
    _, source = world
    thresholds = parse_thresholds({
        "defaults": {k: 1 for k in ("reports_awaiting_screening_max", "investigations_open_max",
                                    "decisions_not_enforced_max", "caseload_per_social_worker_max",
                                    "consultant_share_max", "inflow_spike_ratio", "inflow_spike_min_reports",
                                    "budget_deviation_pct")},
        "budgets_month_sek": {"placements": 2_900_000, "consultants": 0, "economic_assistance": 0}})
    place = {"municipality": "0138", "unit": "bou-1", "category": "placements"}
    for as_of, fraction in [("2024-02-01T00:00:00+01:00", 1 / 29), ("2024-02-29T23:59:59+01:00", 1.0)]:
        registry, _ = collector_for(source, as_of=as_of, thresholds=thresholds)
        assert registry.get_sample_value("casewatch_budget_month_to_date_sek", place) == \
            pytest.approx(2_900_000 * fraction)


def test_pipeline_health():
    as_of = parse_instant(AS_OF)
    source = MemorySource([], stats={
        "events:accepted": "120", "events:duplicate": "3", "events:rejected": "5",
        "rejected:bad_value": "4", "rejected:personal_id_in_payload": "1", "rejected:some_future_reason": "2",
        "consumer_lag": "17", "newest_event_ts": repr(as_of - 90.5), "heartbeat_ts": repr(1e9 - 4)})
    registry, _ = collector_for(source, wall=lambda: 1e9)
    get = registry.get_sample_value
    assert get("casewatch_events_total", {"outcome": "accepted"}) == 120
    assert get("casewatch_events_total", {"outcome": "duplicate"}) == 3
    assert get("casewatch_events_rejected_total", {"reason": "bad_value"}) == 4
    assert get("casewatch_events_rejected_total", {"reason": "invalid_json"}) == 0
    assert get("casewatch_events_rejected_total", {"reason": "some_future_reason"}) == 2
    assert get("casewatch_consumer_lag_messages") == 17
    assert get("casewatch_newest_event_age_seconds") == 90.5
    assert get("casewatch_worker_heartbeat_age_seconds") == 4
    assert get("casewatch_redis_up") == 1


def test_pipeline_gauges_absent_before_the_worker_wrote_them():
    registry, _ = collector_for(MemorySource([]))
    for name in ("casewatch_consumer_lag_messages", "casewatch_newest_event_age_seconds",
                 "casewatch_worker_heartbeat_age_seconds"):
        assert registry.get_sample_value(name) is None
    assert registry.get_sample_value("casewatch_redis_up") == 1
    assert registry.get_sample_value("casewatch_events_total", {"outcome": "accepted"}) == 0


def test_source_down_keeps_the_last_figures_marked_stale(world):
    """Issue 13: while Redis is down the last figures stay (alerts keep firing), marked stale;
    afterwards everything is read afresh."""
    _, source = world
    registry, _ = collector_for(source)
    assert registry.get_sample_value("casewatch_redis_up") == 1
    before = scrape(registry)
    assert before[("casewatch_projection_stale", frozenset())] == 0
    source.down = True
    samples = scrape(registry)  # no exception
    assert samples[("casewatch_redis_up", frozenset())] == 0.0
    assert samples[("casewatch_projection_stale", frozenset())] == 1.0
    unit_figures = {k: v for k, v in samples.items() if k[0].startswith("casewatch_") and
                    k[0] not in ("casewatch_redis_up", "casewatch_projection_stale",
                                 "casewatch_projection_last_read_age_seconds", "casewatch_worker_heartbeat_age_seconds",
                                 "casewatch_newest_event_age_seconds")}
    assert unit_figures == {k: v for k, v in before.items() if k in unit_figures}
    assert len(unit_figures) > 10
    source.down = False
    source.reads.clear()
    assert registry.get_sample_value("casewatch_redis_up") == 1
    assert sorted(source.reads) == ["0138", "0180"]  # after an outage everything is read afresh


def test_only_changed_municipalities_are_read_again(world):
    replay, source = world
    registry, collector = collector_for(source)
    scrape(registry)
    assert sorted(source.reads) == ["0138", "0180"]
    source.reads.clear()
    scrape(registry)
    scrape(registry)
    assert source.reads == []
    # the worker adds a case to 0180 and bumps its version
    more = replayed(handcrafted() + [ev("report.received", "2024-05-17T08:00:00+02:00", case="k3", unit="bou-a",
                                        mun="0180", reporter="polis")])
    source.facts["0180"] = [f for f in more.facts() if f.municipality == "0180"]
    source.version["0180"] += 1
    samples = scrape(registry)
    assert source.reads == ["0180"]
    as_of = parse_instant(AS_OF)
    assert figures_from_metrics(samples) == compute(more.facts(as_of), as_of)
    assert collector.cached_cases == len(more.cases)
    # a municipality that disappears (Redis flushed) is dropped
    del source.facts["0180"], source.version["0180"]
    assert set(figures_from_metrics(scrape(registry))) == {"0138"}


@pytest.mark.parametrize("instants", [
    # the clock moves across a month end (and a DST change) while facts stay cached
    ["2024-03-30T23:00:00+01:00", "2024-03-31T12:00:00+02:00", "2024-04-01T00:00:00+02:00",
     "2024-05-17T14:00:00+02:00", "2024-05-20T09:00:00+02:00", "2024-06-01T00:00:01+02:00"],
])
def test_nothing_time_dependent_is_cached(world, instants):
    replay, source = world
    now = [parse_instant(instants[0])]
    registry, _ = collector_for(source, as_of=lambda: now[0])
    for instant in instants:
        now[0] = parse_instant(instant)
        expected = compute(replay.facts(now[0]), now[0], Period.month_to_date(now[0]))
        assert figures_from_metrics(scrape(registry)) == expected, instant
    assert sorted(source.reads) == ["0138", "0180"]


def test_figures_from_metrics_drops_zero_categories_and_fills_nulls():
    text = "\n".join([
        'casewatch_placements_active{municipality="0138",unit="u",placement_type="hvb"} 2',
        'casewatch_placements_active{municipality="0138",unit="u",placement_type="sis"} 0',
        'casewatch_investigations_open{municipality="0138",unit="u"} 3',
        'casewatch_threshold{municipality="0138",unit="u",kind="investigations_open_max"} 9', ""])
    figures = figures_from_metrics(parse_metrics(text))["0138"]["u"]
    assert figures["placements_active"] == {"hvb": 2}
    assert figures["staff_active"] == {}
    assert figures["investigations_open"] == 3
    assert figures["caseload_per_social_worker"] is None
    assert set(figures) == {m.key for m in KPI_METRICS}


def test_exposition_has_no_nan_or_created_series(world):
    _, source = world
    registry, _ = collector_for(source)
    text = generate_latest(registry).decode()
    assert "_created" not in text
    assert not any(math.isnan(v) for v in parse_metrics(text).values())


def test_raw_source_reparses_only_changed_cases(world, monkeypatch):
    import services.exporter.collector as collector_module

    replay, _ = world
    source = RawMemorySource(list(replay.facts()))
    parsed = []
    real = collector_module.facts_from_json
    monkeypatch.setattr(collector_module, "facts_from_json", lambda raw: parsed.append(raw) or real(raw))
    registry, _ = collector_for(source)
    as_of = parse_instant(AS_OF)
    assert figures_from_metrics(scrape(registry)) == compute(replay.facts(as_of), as_of)
    assert len(parsed) == len(replay.cases)
    parsed.clear()
    scrape(registry)
    assert parsed == []
    # one case of 0138 changes (a report gets screened): that case alone is parsed again
    more = replayed(handcrafted() + [ev("report.screened", "2024-05-16T10:00:00+02:00", case="c1",
                                        outcome="no_investigation")])
    source.facts["0138"] = [f for f in more.facts() if f.municipality == "0138"]
    source.version["0138"] += 1
    assert figures_from_metrics(scrape(registry)) == compute(more.facts(as_of), as_of)
    assert len(parsed) == 1


def test_thresholds_file_reloads_on_change_and_keeps_the_last_good_one(world, tmp_path):
    from streams.thresholds import DEFAULT_THRESHOLDS_FILE, ThresholdsError
    from services.exporter import ThresholdsFile

    _, source = world
    path = tmp_path / "thresholds.yaml"
    original = DEFAULT_THRESHOLDS_FILE.read_text()
    path.write_text(original)
    registry, _ = collector_for(source, thresholds=ThresholdsFile(path))
    place = {"municipality": "0138", "unit": "eb-1", "kind": "investigations_open_max"}
    assert registry.get_sample_value("casewatch_threshold", place) == 120
    path.write_text(original.replace("investigations_open_max: 120", "investigations_open_max: 95"))
    assert registry.get_sample_value("casewatch_threshold", place) == 95
    path.write_text("defaults: [this is not a mapping")  # a broken edit: keep answering with 95
    assert registry.get_sample_value("casewatch_threshold", place) == 95
    path.write_text("defaults: {}\n")
    with pytest.raises(ThresholdsError):  # but a bad file at start fails loudly
        ThresholdsFile(path)


# --- the cached text exposition ------------------------------------------------------------------

def test_the_exposition_is_byte_identical_to_generate_latest(world):
    replay, source = world
    source.stats = {"events:accepted": "12", "consumer_lag": "3", "newest_event_ts": repr(replay.latest),
                    "heartbeat_ts": "999999990.0"}
    registry, collector = collector_for(source)
    assert collector.exposition() == generate_latest(registry)
    assert collector.exposition() == generate_latest(registry)  # from the cache this time
    source.down = True
    assert collector.exposition() == generate_latest(registry)


def test_cached_figures_are_recomputed_exactly_when_they_can_change():
    """Scrapes every 20 minutes over four days (midnights, deadlines, 7-day windows passing):
    every scrape equals compute() at its instant, and most units come from the cache."""
    from datetime import datetime

    from services.simulator import SimulationSpec, simulate
    from streams.core.timeutil import STOCKHOLM

    spec = SimulationSpec(municipalities=2, population=20_000, months=3, seed=4,
                          end=datetime(2024, 5, 17, 14, tzinfo=STOCKHOLM))
    replay = Replay()
    replay.add_lines(simulate(spec))
    facts = list(replay.facts())
    source = MemorySource(facts)
    now = {"t": replay.latest - 4 * 86400}
    registry, collector = collector_for(source, as_of=lambda: now["t"])
    reused = []
    while now["t"] < replay.latest:
        got = figures_from_metrics(parse_metrics(collector.exposition()))
        assert got == compute(facts, now["t"]), now["t"]
        reused.append(1 - collector.last_scrape["recomputed_units"] / collector.last_scrape["units"])
        now["t"] += 1200
    assert sum(reused) / len(reused) > 0.5
    now["t"] = replay.latest - 5 * 86400  # a clock set back (a what-if), then on again: still exact
    for _ in range(72):
        assert figures_from_metrics(parse_metrics(collector.exposition())) == compute(facts, now["t"])
        now["t"] += 1200


def test_prometheus_scrapes_take_the_cached_text_and_others_get_what_they_ask_for(world):
    from services.exporter.server import build_registry, make_app

    _replay, source = world
    collector = KpiCollector(source, clock=lambda: parse_instant(AS_OF), wall_clock=lambda: 1e9)
    app = make_app(build_registry(collector, process_metrics=False))

    def get(accept: str = "", query: str = "") -> tuple[str, bytes]:
        seen = {}
        body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "HTTP_ACCEPT": accept,
                             "QUERY_STRING": query},
                            lambda status, headers: seen.update(headers)))
        return seen["Content-Type"], body

    prometheus = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
    for accept in (prometheus, "", "text/plain"):
        content_type, body = get(accept)
        assert content_type.startswith("text/plain; version=0.0.4")
        assert body == collector.exposition()
    content_type, body = get("application/openmetrics-text")
    assert content_type.startswith("application/openmetrics-text") and body.endswith(b"# EOF\n")
    _content_type, body = get(query="name[]=casewatch_redis_up")
    assert body.decode().splitlines()[-1] == "casewatch_redis_up 1.0"
    assert "casewatch_investigations_open" not in body.decode()
    _content_type, body = get(prometheus, "name[]=casewatch_investigations_open&name[]=casewatch_events_total")
    families = {line.split()[2] for line in body.decode().splitlines() if line.startswith("# TYPE")}
    assert families == {"casewatch_investigations_open", "casewatch_events_total"}
    # gzip, as Prometheus asks: the parts compressed one by one, one stream, its length declared
    seen = {}
    parts = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "HTTP_ACCEPT": prometheus,
                 "HTTP_ACCEPT_ENCODING": "gzip"}, lambda status, headers: seen.update(headers))
    body = b"".join(parts)
    assert seen["Content-Encoding"] == "gzip" and int(seen["Content-Length"]) == len(body)
    assert gzip.decompress(body) == collector.exposition()


def test_since_when_each_clock_is_late_and_the_display_name_are_exported(world):
    """The alerts' "äldsta sedan ...": the deadline the oldest overdue item passed, per unit and
    clock, an instant and never a case; and the registry's name as casewatch_unit_info."""
    _replay, source = world
    registry = CollectorRegistry(auto_describe=False)
    names = {("0138", "bou-1"): "Barn och unga, mottagning"}
    registry.register(KpiCollector(source, clock=lambda: parse_instant(AS_OF), wall_clock=lambda: 1e9,
                                   display_names=lambda m, u: names.get((m, u))))
    text = generate_latest(registry).decode()
    samples = parse_metrics(text)

    def oldest(unit, clock, mun="0138"):
        return samples.get(("casewatch_oldest_overdue_timestamp_seconds",
                            frozenset({"municipality": mun, "unit": unit, "clock": clock}.items())))

    assert oldest("bou-1", "protection") == parse_instant("2024-05-03T09:00:00+02:00")  # c1, 24 hours
    assert oldest("bou-1", "screening") == parse_instant("2024-05-04T09:00:00+02:00")  # c2, 14 days
    assert oldest("bou-1", "enforcement") == parse_instant("2024-04-06T11:00:00+02:00")  # d2, 3 months
    assert oldest("bou-1", "investigation") is None  # c5 was extended, c4 is within 4 months
    assert oldest("eb-1", "screening") is None
    info = {labels: v for (name, labels), v in samples.items() if name == "casewatch_unit_info"}
    assert info == {frozenset({"municipality": "0138", "unit": "bou-1", "name": "Barn och unga, mottagning"}.items()): 1.0}
    assert "case_id" not in text and "c1" not in text.replace("clock", "")


def test_the_exporter_command_reads_display_names_from_the_unit_registry():
    """With a registry (CONTRACT.md §7) the names reach casewatch_unit_info; a unit the registry
    does not name, or no registry at all, publishes none."""
    from types import SimpleNamespace

    from services.commands.exporter import display_names

    class Registry:
        def display_name(self, municipality, unit):
            return {("0138", "bou-1"): "Barn och unga, mottagning"}.get((municipality, unit), unit)

    names = display_names(SimpleNamespace(unit_registry=lambda: Registry()))
    assert names("0138", "bou-1") == "Barn och unga, mottagning"
    assert names("0138", "bou-2") is None
    assert display_names(SimpleNamespace(unit_registry=lambda: None)) is None
    assert display_names(SimpleNamespace()) is None
