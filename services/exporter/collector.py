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
keeps serving the figures of the last good read (computed at the scrape instant), marked by
``casewatch_projection_stale 1`` and ``casewatch_projection_last_read_age_seconds``: alerts that
fire keep firing instead of resolving for want of series. Before any good read it answers
``casewatch_redis_up 0`` alone. After an outage everything is read afresh (a flushed and
rebuilt projection included).
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
from streams.core.kpis import (Period, UnitItems, change_instants, earliest_item, group_by_unit, staff_kpis,
                                unit_kpis)
from streams.core.ivo import due_this_quarter
from streams.core.overdue import oldest_overdue
from streams.core.timeutil import day_start, local_day, month_bounds

from .metrics import UNIT_FAMILIES, Scrape, UnitSample, family_header, render_samples, unit_samples
from .snapshot import SavedUnit, SnapshotStore, encode, fingerprint

log = logging.getLogger("casewatch.exporter")

UNAVAILABLE: tuple[type[BaseException], ...] = (redis.RedisError, OSError)


class FactsSource(Protocol):
    def municipalities(self) -> list[str]: ...

    def versions(self, municipalities: list[str]) -> dict[str, Hashable]: ...

    def read_facts_raw(self, municipality: str) -> dict[bytes, bytes]: ...

    def pipeline_stats(self) -> PipelineStats: ...


@dataclass(slots=True)
class _Unit:
    items: UnitItems | None  # None: adopted from a snapshot, its municipality's facts not parsed yet
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
    name: str | None = None  # the display name the samples were computed with

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
                 clocks: Clocks = DEFAULT_CLOCKS, unavailable: tuple[type[BaseException], ...] = UNAVAILABLE,
                 display_names: Callable[[str, str], str | None] | None = None,
                 snapshot_every: float = 30.0) -> None:
        self.source = source
        # The unit registry's names (CONTRACT.md §7) for casewatch_unit_info; None: no registry.
        self.display_names = display_names
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
        self._last_stats: PipelineStats | None = None
        self._last_read: float | None = None  # wall-clock instant of the last good read
        self.last_scrape: dict[str, float] = {}  # timings of the last scrape (seconds), for benchmarks
        # The computed samples kept beside the projection (snapshot.py); a negative interval: off.
        self.snapshots = SnapshotStore(source, snapshot_every, time.monotonic)
        self._restored = False  # whether this collector looked for snapshots (once, at its first read)

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
        if not self._cache and not self._restored:
            self._restored = True
            self._restore({m: versions.get(m) for m in municipalities})
        for municipality in municipalities:
            version = versions.get(municipality)
            cached = self._cache.get(municipality)
            if cached is not None and cached.version == version:
                continue
            self._load(municipality, version, cached)
        return self.source.pipeline_stats()

    def _load(self, municipality: str, version: Hashable, cached: _Municipality | None) -> None:
        """Parse ``municipality``'s facts (only the cases whose stored bytes changed since
        ``cached`` was read) and group them by unit."""
        raw = self._parse_changed(self.source.read_facts_raw(municipality), cached.raw if cached else None)
        facts = [f for _b, f in raw.values()]
        units = {unit: _Unit(items, earliest_item(items)) for (_m, unit), items in group_by_unit(facts).items()}
        self._cache[municipality] = _Municipality(version, len(facts), units, raw)

    def _restore(self, versions: dict[str, Hashable]) -> None:
        """Adopt the snapshots whose municipality version still matches (see snapshot.py)."""
        thresholds = self._thresholds()
        saved = self.snapshots.load(versions, fingerprint(thresholds, self.clocks))
        for municipality, found in saved.items():
            units = {}
            for unit, s in found.units.items():
                name = self.display_names(municipality, unit) if self.display_names else None
                fresh = s.samples is not None and name == s.name
                units[unit] = _Unit(None, s.earliest, samples=s.samples if fresh else None,
                                    computed_at=s.computed_at, valid_until=s.valid_until if fresh else -math.inf,
                                    thresholds=thresholds if fresh else None, name=s.name)
            self._cache[municipality] = _Municipality(found.version, found.cases, units, None)
        if saved:
            log.info("adopted the computed samples of %d of %d municipalities from the exporter snapshot",
                     len(saved), len(versions))

    @staticmethod
    def _parse_changed(stored, previous: dict | None) -> dict:
        """Parse only the cases whose stored bytes differ from the previous read."""
        previous = previous or {}
        out = {}
        for case_id, value in stored.items():
            known = previous.get(case_id)
            out[case_id] = known if known is not None and known[0] == value else (value, facts_from_json(value))
        return out

    def _units_now(self) -> tuple[float, PipelineStats, list[_Unit], float | None] | None:
        """``(as_of, pipeline stats, the units that exist at as_of with current samples, None
        or the age of the last good read when serving it)``, or None when the source is
        unreachable and was never read."""
        started = time.perf_counter()
        stale_age = None
        kept = self._cache
        try:
            if self._was_up is False:
                self._cache = {}  # back after an outage: read everything afresh
            stats = self._last_stats = self._read()
            self._last_read = self.wall_clock()
        except self.unavailable as exc:
            if self._was_up is not False:
                log.warning("facts source unreachable, serving the last figures read, marked stale: %s",
                            type(exc).__name__)
            self._was_up = False
            self._cache = kept
            if self._last_stats is None or self._last_read is None:
                self._cache.clear()
                return None
            stats, stale_age = self._last_stats, self.wall_clock() - self._last_read
        else:
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
            cached = self._cache[municipality]
            if any(e.items is None and e.earliest <= as_of and not e.current(as_of, thresholds)
                   for e in cached.units.values()):
                # adopted from a snapshot, and a unit's samples expired: its facts are needed now
                try:
                    self._load(municipality, cached.version, None)
                    cached = self._cache[municipality]
                except self.unavailable:
                    pass  # Redis went away meanwhile: its still valid units are served, the next scrape reads it
            units = cached.units
            for unit in sorted(units):
                entry = units[unit]
                if entry.earliest > as_of:
                    continue  # as in kpis.compute: a unit appears with its first item
                if entry.items is None and not entry.current(as_of, thresholds):
                    continue  # expired and its facts unreadable just now (see above)
                if not entry.current(as_of, thresholds):
                    self._recompute(entry, municipality, unit, as_of, period, thresholds, elapsed, midnight)
                    recomputed += 1
                    self.snapshots.dirty.add(municipality)
                active.append(entry)
        if self.snapshots.due() and stale_age is None:
            self._save_snapshots(thresholds)
        done = time.perf_counter()
        self.last_scrape = {"read_s": read - started, "compute_s": done - read, "total_s": done - started,
                            "units": len(active), "recomputed_units": recomputed}
        return as_of, stats, active, stale_age

    def _recompute(self, entry: _Unit, municipality: str, unit: str, as_of: float, period: Period,
                   thresholds: Thresholds, elapsed: float, midnight: float) -> None:
        figures = unit_kpis(entry.items, as_of, period, self.clocks)
        name = entry.name = self.display_names(municipality, unit) if self.display_names else None
        # Staff over the last 365 days: changes only at staff events and at midnight, as the rest.
        today = local_day(as_of)
        rolling, _ = staff_kpis(entry.items.staff, as_of, Period(today - 364, today + 1))
        entry.samples = list(unit_samples(municipality, unit, figures, thresholds.for_unit(municipality, unit),
                                          thresholds.budget_month_sek(municipality, unit), elapsed,
                                          oldest_overdue(entry.items, as_of, self.clocks), name, rolling,
                                          due_this_quarter(entry.items.decisions, as_of, self.clocks)))
        if entry.instants is None or as_of < entry.instants_since:  # a clock set back (what-ifs, tests)
            entry.instants = change_instants(entry.items, self.clocks, since=as_of)
            entry.instants_since = as_of
        upcoming = bisect_left(entry.instants, as_of)
        next_change = entry.instants[upcoming] if upcoming < len(entry.instants) else math.inf
        entry.computed_at, entry.valid_until = as_of, min(next_change, midnight)
        entry.thresholds, entry.text = thresholds, None

    def _save_snapshots(self, thresholds: Thresholds) -> None:
        fp = fingerprint(thresholds, self.clocks)
        documents = []
        for municipality in sorted(self.snapshots.dirty):
            cached = self._cache.get(municipality)
            if cached is None:
                continue
            units = {u: SavedUnit(e.earliest, e.computed_at, e.valid_until, e.name,
                                  e.samples if e.thresholds is thresholds else None)
                     for u, e in cached.units.items()}
            documents.append((municipality, encode(cached.version, cached.cases, fp, units)))
        self.snapshots.save(documents, self.unavailable)

    def _scrape(self) -> Scrape:
        scrape = Scrape()
        now = self._units_now()
        if now is None:
            scrape.set_up(False)
            return scrape
        as_of, stats, active, stale_age = now
        for entry in active:
            scrape.add_samples(entry.samples)
        scrape.add_pipeline(stats, as_of, self.wall_clock())
        scrape.set_up(stale_age is None)
        if stale_age is not None:
            scrape.set_stale(stale_age)
        return scrape

    def exposition(self, names: Collection[str] | None = None) -> bytes:
        """This collector's metrics in the Prometheus text format (0.0.4), the unit families
        joined from each unit's cached lines; only the families ``names`` when given (the
        ``name[]`` parameter of a scrape)."""
        with self._lock:
            now = self._units_now()
            parts: list[str] = []
            rest = Scrape()  # the pipeline's families and casewatch_redis_up
            rest.set_up(now is not None and now[3] is None)
            if now is not None:
                as_of, stats, active, stale_age = now
                if stale_age is not None:
                    rest.set_stale(stale_age)
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
