"""The exporter's custom collector: KPIs at scrape time from a facts source.

A *facts source* is the read side of :class:`streams.projection.Projection`:
``municipalities()``, ``versions(municipalities)``, ``read_facts_raw(municipality)`` and
``pipeline_stats()`` (the Redis projection the worker writes, or the in-memory one).

Each scrape asks the source for the municipalities and their version counters, re-reads and
re-groups only the municipalities whose version changed since the last scrape (re-parsing only
the cases whose stored bytes changed), and computes
every unit's KPIs with the core (:func:`streams.core.kpis.unit_kpis`) at ``as_of`` = the clock's
now, over the contract's default period (month to date). The figures are therefore exactly what
``casewatch replay`` gives for the same events at the same instant. Time-dependent figures are
recomputed exactly when they can have changed: a unit's samples are reused until the first
instant at which one of its figures can change (:func:`streams.core.kpis.change_instants`),
local midnight (month to date moves) or a new thresholds file, whichever comes first; at
national scale only a few units of the 2,900 change between two scrapes.

:meth:`KpiCollector.exposition` writes the text format itself from each unit's cached lines
(what ``generate_latest`` would write, without formatting 170,000 samples on every scrape);
:meth:`KpiCollector.collect` serves registries (the demo, tests, OpenMetrics) from the same
cached samples.

When the source cannot be read (Redis down), the scrape answers ``casewatch_redis_up 0`` and
nothing else: no stale figure, and the cache is dropped so a flushed and rebuilt projection is
read afresh.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Hashable, Iterable, Iterator, Protocol

import redis
from prometheus_client import generate_latest
from prometheus_client.core import Metric

from streams.thresholds import Thresholds, ThresholdsError, load_thresholds
from streams.core.clocks import DEFAULT_CLOCKS, Clocks
from streams.projection import PipelineStats
from streams.core.facts import CaseFacts, facts_from_json
from streams.core.kpis import Period, UnitItems, change_instants, earliest_item, group_by_unit, unit_kpis
from streams.core.timeutil import day_start, local_day, month_bounds

from .metrics import UNIT_FAMILIES, Scrape, UnitSample, family_header, render_samples, unit_samples

log = logging.getLogger("casewatch.exporter")

UNAVAILABLE: tuple[type[BaseException], ...] = (redis.RedisError, OSError)


class FactsSource(Protocol):
    def municipalities(self) -> list[str]: ...

    def versions(self, municipalities: list[str]) -> dict[str, Hashable]: ...

    def read_facts_raw(self, municipality: str) -> dict[bytes, bytes]: ...

    def pipeline_stats(self) -> PipelineStats: ...


@dataclass(slots=True)
class _Unit:
    items: UnitItems
    earliest: float  # the first instant any item of the unit happened: before it the unit does not exist
    instants: list[float] | None = None  # change_instants(items) from ``instants_since`` on, on first use
    instants_since: float = math.inf
    # The unit's samples as of ``computed_at``, good while as_of < ``valid_until`` under the
    # same thresholds; ``text`` their exposition lines per family, rendered on first use.
    samples: list[UnitSample] | None = None
    computed_at: float = 0.0
    valid_until: float = -math.inf
    thresholds: Thresholds | None = None
    text: dict[str, str] | None = None

    def current(self, as_of: float, thresholds: Thresholds) -> bool:
        return (self.samples is not None and self.computed_at <= as_of < self.valid_until
                and self.thresholds is thresholds)


@dataclass(slots=True)
class _Municipality:
    version: Hashable
    cases: int
    units: dict[str, _Unit]
    raw: dict | None = None  # case_id -> (stored bytes, parsed facts), for incremental re-reads


class ThresholdsFile:
    """The thresholds file, re-read when it changes on disk. A change that does not validate is
    logged and the last good thresholds stay in force (the exporter must keep answering)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._stamp = self._stat()
        self._current = load_thresholds(self.path)  # a bad file at start fails loudly

    def _stat(self) -> tuple[float, int] | None:
        from streams.thresholds import DEFAULT_THRESHOLDS_FILE

        try:
            st = (self.path or DEFAULT_THRESHOLDS_FILE).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def __call__(self) -> Thresholds:
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._current = load_thresholds(self.path)
                log.info("thresholds reloaded from %s", self._current.source)
            except ThresholdsError as exc:
                log.error("thresholds not reloaded, keeping the previous ones: %s", exc)
        return self._current


def only(families: Iterable[Metric], names: Collection[str] | None) -> Iterator[Metric]:
    """The families named in ``names`` (by family or sample name), all when None."""
    for family in families:
        if names is None or family.name in names or any(s.name in names for s in family.samples):
            yield family


class Families:
    """What ``generate_latest`` needs of a registry: ``collect()``."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


class KpiCollector:
    """A prometheus-client custom collector over a facts source (see the module doc)."""

    def __init__(self, source: FactsSource, thresholds: Thresholds | Callable[[], Thresholds] | None = None,
                 clock: Callable[[], float] = time.time, wall_clock: Callable[[], float] = time.time,
                 clocks: Clocks = DEFAULT_CLOCKS, unavailable: tuple[type[BaseException], ...] = UNAVAILABLE) -> None:
        self.source = source
        if thresholds is None:
            thresholds = load_thresholds()
        self._thresholds = thresholds if callable(thresholds) else (lambda: thresholds)
        self.clock = clock  # as_of of the KPIs (fixed in tests and what-ifs)
        self.wall_clock = wall_clock  # the worker's heartbeat is wall-clock time, whatever as_of is
        self.clocks = clocks
        self.unavailable = unavailable
        self._cache: dict[str, _Municipality] = {}
        self._lock = threading.Lock()
        self._was_up: bool | None = None
        self.last_scrape: dict[str, float] = {}  # timings of the last scrape (seconds), for benchmarks

    def describe(self):
        # No I/O at registration time; the registry then skips duplicate-name checks for us.
        return []

    def collect(self) -> Iterator:
        with self._lock:  # concurrent scrapes would race on the cache
            return iter(list(self._scrape().families()))

    # --- one scrape --------------------------------------------------------------------------

    def _read(self) -> PipelineStats:
        """Bring the cache up to date with the source; returns the pipeline stats."""
        municipalities = self.source.municipalities()
        versions = self.source.versions(municipalities)
        for gone in set(self._cache) - set(municipalities):
            del self._cache[gone]
        for municipality in municipalities:
            version = versions.get(municipality)
            cached = self._cache.get(municipality)
            if cached is not None and cached.version == version:
                continue
            # the stored bytes per case: a changed municipality is re-parsed case by case
            raw = self._parse_changed(self.source.read_facts_raw(municipality), cached.raw if cached else None)
            facts = [f for _b, f in raw.values()]
            units = {unit: _Unit(items, earliest_item(items)) for (_m, unit), items in group_by_unit(facts).items()}
            self._cache[municipality] = _Municipality(version, len(facts), units, raw)
        return self.source.pipeline_stats()

    @staticmethod
    def _parse_changed(stored, previous: dict | None) -> dict:
        """Parse only the cases whose stored bytes differ from the previous read."""
        previous = previous or {}
        out = {}
        for case_id, value in stored.items():
            known = previous.get(case_id)
            out[case_id] = known if known is not None and known[0] == value else (value, facts_from_json(value))
        return out

    def _units_now(self) -> tuple[float, dict[str, str], list[_Unit]] | None:
        """``(as_of, pipeline stats, the units that exist at as_of with current samples)``,
        or None when the source is unreachable."""
        started = time.perf_counter()
        try:
            stats = self._read()
        except self.unavailable as exc:
            self._cache.clear()
            if self._was_up is not False:
                log.warning("facts source unreachable, exporting casewatch_redis_up 0 only: %s",
                            type(exc).__name__)
            self._was_up = False
            return None
        if self._was_up is False:
            log.info("facts source reachable again")
        self._was_up = True
        read = time.perf_counter()

        as_of = self.clock()
        period = Period.month_to_date(as_of)
        month_start, month_end = month_bounds(period.start)
        elapsed = period.days / (month_end - month_start)
        midnight = day_start(local_day(as_of) + 1)
        thresholds = self._thresholds()
        active: list[_Unit] = []
        recomputed = 0
        for municipality in sorted(self._cache):
            units = self._cache[municipality].units
            for unit in sorted(units):
                entry = units[unit]
                if entry.earliest > as_of:
                    continue  # as in kpis.compute: a unit appears with its first item
                if not entry.current(as_of, thresholds):
                    self._recompute(entry, municipality, unit, as_of, period, thresholds, elapsed, midnight)
                    recomputed += 1
                active.append(entry)
        done = time.perf_counter()
        self.last_scrape = {"read_s": read - started, "compute_s": done - read, "total_s": done - started,
                            "units": len(active), "recomputed_units": recomputed}
        return as_of, stats, active

    def _recompute(self, entry: _Unit, municipality: str, unit: str, as_of: float, period: Period,
                   thresholds: Thresholds, elapsed: float, midnight: float) -> None:
        figures = unit_kpis(entry.items, as_of, period, self.clocks)
        entry.samples = list(unit_samples(municipality, unit, figures, thresholds.for_unit(municipality, unit),
                                          thresholds.budget_month_sek(municipality, unit), elapsed))
        if entry.instants is None or as_of < entry.instants_since:  # a clock set back (what-ifs, tests)
            entry.instants = change_instants(entry.items, self.clocks, since=as_of)
            entry.instants_since = as_of
        upcoming = bisect_left(entry.instants, as_of)
        next_change = entry.instants[upcoming] if upcoming < len(entry.instants) else math.inf
        entry.computed_at, entry.valid_until = as_of, min(next_change, midnight)
        entry.thresholds, entry.text = thresholds, None

    def _scrape(self) -> Scrape:
        scrape = Scrape()
        now = self._units_now()
        if now is None:
            scrape.set_up(False)
            return scrape
        as_of, stats, active = now
        for entry in active:
            scrape.add_samples(entry.samples)
        scrape.add_pipeline(stats, as_of, self.wall_clock())
        scrape.set_up(True)
        return scrape

    def exposition(self, names: Collection[str] | None = None) -> bytes:
        """This collector's metrics in the Prometheus text format (0.0.4), the unit families
        joined from each unit's cached lines; only the families ``names`` when given (the
        ``name[]`` parameter of a scrape)."""
        with self._lock:
            now = self._units_now()
            parts: list[str] = []
            rest = Scrape()  # the pipeline's families and casewatch_redis_up
            rest.set_up(now is not None)
            if now is not None:
                as_of, stats, active = now
                for entry in active:
                    if entry.text is None:
                        entry.text = render_samples(entry.samples)
                for name in UNIT_FAMILIES if names is None else [n for n in UNIT_FAMILIES if n in names]:
                    parts.append(family_header(name))
                    parts.extend(text for entry in active if (text := entry.text.get(name)))
                rest.add_pipeline(stats, as_of, self.wall_clock())
            return "".join(parts).encode() + generate_latest(Families(only(rest.pipeline_families(), names)))

    @property
    def cached_cases(self) -> int:
        return sum(m.cases for m in self._cache.values())
