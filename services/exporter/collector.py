"""The exporter's custom collector: KPIs at scrape time from a facts source.

A *facts source* is the read side of :class:`streams.projection.Projection`:
``municipalities()``, ``versions(municipalities)``, ``read_facts_raw(municipality)`` and
``pipeline_stats()`` (the Redis projection the worker writes, or the in-memory one).

Each scrape asks the source for the municipalities and their version counters, re-reads only
the municipalities whose version changed since the last scrape (re-parsing only the cases whose
stored bytes changed, recomputing only the units those cases name), and computes
every unit's KPIs with the core (:func:`streams.core.kpis.unit_kpis`) at ``as_of`` = the clock's
now, over the contract's default period (month to date). The figures are therefore exactly what
``casewatch replay`` gives for the same events at the same instant. Time-dependent figures are
recomputed exactly when they can have changed: a unit's samples are reused until the first
instant at which one of its figures can change (:func:`streams.core.changes.change_instants`),
local midnight (month to date moves) or a new thresholds file, whichever comes first; at
national scale only a few units of the 2,900 change between two scrapes, and
:meth:`KpiCollector.prepare` (a thread of the exporter) computes those ahead of their instant,
so that the scrape only swaps them in (units.py).

:meth:`KpiCollector.exposition_parts` writes the text format itself from the text kept per unit,
municipality and family (text.py: what ``generate_latest`` would write, without formatting or
joining ~250,000 samples on every scrape);
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
from typing import Callable, Collection, Hashable, Iterator, Protocol

import redis
from prometheus_client import generate_latest

from streams.thresholds import Thresholds, load_thresholds
from streams.core.clocks import DEFAULT_CLOCKS, Clocks
from streams.projection import PipelineStats
from streams.core.facts import facts_from_json
from streams.core.kpis import earliest_item, group_by_unit

from .metrics import Scrape
from .snapshot import SavedUnit, SnapshotStore, encode, fingerprint
from .thresholds_file import ThresholdsFile
from .text import Families, UnitText, only
from .units import Computed, Municipality, Unit, compute, same, units_named

log = logging.getLogger("casewatch.exporter")

UNAVAILABLE: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
# How far ahead of their expiry units' samples are computed: local midnight expires every unit
# at once, ~2,900 at national scale, so the minutes before it must cover them all.
PREPARE_HORIZON_S = 900.0


class FactsSource(Protocol):
    def municipalities(self) -> list[str]: ...

    def versions(self, municipalities: list[str]) -> dict[str, Hashable]: ...

    def read_facts_raw(self, municipality: str) -> dict[bytes, bytes]: ...

    def pipeline_stats(self) -> PipelineStats: ...


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
        self._cache: dict[str, Municipality] = {}
        self._lock = threading.Lock()
        self._was_up: bool | None = None
        self._last_stats: PipelineStats | None = None
        self._last_read: float | None = None  # wall-clock instant of the last good read
        self.last_scrape: dict[str, float] = {}  # timings of the last scrape (seconds), for benchmarks
        # The computed samples kept beside the projection (snapshot.py); a negative interval: off.
        self.snapshots = SnapshotStore(source, snapshot_every, time.monotonic)
        self._restored = False  # whether this collector looked for snapshots (once, at its first read)
        self._text = UnitText()  # the unit families' text of the last exposition, in parts

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

    def _load(self, municipality: str, version: Hashable, cached: Municipality | None) -> None:
        """Read and parse ``municipality``'s facts (see :meth:`_parsed`)."""
        self._cache[municipality] = self._parsed(municipality, version, self.source.read_facts_raw(municipality),
                                                 cached)

    @classmethod
    def _parsed(cls, municipality: str, version: Hashable, stored: dict, cached: Municipality | None) -> Municipality:
        """``municipality`` from its stored facts: only the cases whose bytes changed since
        ``cached`` was read are parsed, and a unit that no changed case names keeps its entry
        (its items, samples and samples computed ahead: the same facts give the same figures);
        an adopted municipality (facts not parsed yet) of the same version keeps every unit's samples."""
        previous = cached.raw if cached is not None else None
        raw = cls._parse_changed(stored, previous)
        facts = [f for _b, f in raw.values()]
        units = {unit: Unit(items, earliest_item(items)) for (_m, unit), items in group_by_unit(facts).items()}
        if cached is None:
            return Municipality(version, len(facts), units, raw)
        if previous is None:
            touched = set() if cached.version == version else None  # None: every unit
        else:
            touched = units_named(
                [f for case_id, (b, f) in raw.items() if (was := previous.get(case_id)) is None or was[0] != b]
                + [f for case_id, (b, f) in previous.items() if (now := raw.get(case_id)) is None or now[0] != b])
        if touched is not None:
            for unit, entry in units.items():
                old = cached.units.get(unit)
                if old is None or unit in touched:
                    continue
                if old.items is not None:
                    units[unit] = old
                else:
                    entry.now, entry.name = old.now, old.name
        return Municipality(version, len(facts), units, raw)

    def _restore(self, versions: dict[str, Hashable]) -> None:
        """Adopt the snapshots whose municipality version still matches (see snapshot.py)."""
        thresholds = self._thresholds()
        saved = self.snapshots.load(versions, fingerprint(thresholds, self.clocks))
        for municipality, found in saved.items():
            units = {}
            for unit, s in found.units.items():
                name = self.display_names(municipality, unit) if self.display_names else None
                fresh = s.samples is not None and name == s.name
                now = Computed(s.samples, s.computed_at, s.valid_until, thresholds, s.name, s.text) if fresh else None
                units[unit] = Unit(None, s.earliest, now=now, name=s.name)
            self._cache[municipality] = Municipality(found.version, found.cases, units, None)
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

    def _units_now(self) -> tuple[float, PipelineStats, list[tuple[str, Municipality]], float | None] | None:
        """``(as_of, pipeline stats, the municipalities with units that exist at as_of (their
        ``exposed`` units, with current samples, each with its name), None or the age of the last good read when
        serving it)``, or None when the source is unreachable and was never read."""
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
        thresholds = self._thresholds()
        active: list[tuple[str, Municipality]] = []
        recomputed = prepared = units_exposed = 0
        for municipality in sorted(self._cache):
            cached = self._cache[municipality]
            if any(e.items is None and e.earliest <= as_of and not e.current(as_of, thresholds)
                   for e in cached.units.values()):
                # adopted from a snapshot, and a unit's samples expired: its facts are needed now
                try:
                    self._load(municipality, cached.version, cached)
                    cached = self._cache[municipality]
                except self.unavailable:
                    pass  # Redis went away meanwhile: its still valid units are served, the next scrape reads it
            units = cached.units
            exposed: list[Unit] = []
            for unit in sorted(units):
                entry = units[unit]
                if entry.earliest > as_of:
                    continue  # as in kpis.compute: a unit appears with its first item
                if entry.items is None and not entry.current(as_of, thresholds):
                    continue  # expired and its facts unreadable just now (see above)
                if not entry.current(as_of, thresholds):
                    ahead = entry.ahead
                    if ahead is not None and ahead.covers(as_of, thresholds) and ahead.name == self._name(municipality, unit):
                        entry.now = ahead  # computed ahead of time (prepare)
                        prepared += 1
                    else:
                        entry.now = compute(entry, municipality, unit, as_of, thresholds, self.clocks,
                                            self.display_names)
                        recomputed += 1
                    entry.ahead = None
                    entry.name = entry.now.name
                    cached.chunks = None
                    self.snapshots.dirty.add(municipality)
                exposed.append(entry)
            if not same(exposed, cached.exposed):  # another set of units
                cached.exposed, cached.chunks = exposed, None
            if exposed:
                active.append((municipality, cached))
                units_exposed += len(exposed)
        if self.snapshots.due() and stale_age is None:
            self._save_snapshots(thresholds)
        done = time.perf_counter()
        self.last_scrape = {"read_s": read - started, "compute_s": done - read, "total_s": done - started,
                            "units": units_exposed, "recomputed_units": recomputed, "prepared_units": prepared}
        return as_of, stats, active, stale_age

    def _name(self, municipality: str, unit: str) -> str | None:
        return self.display_names(municipality, unit) if self.display_names else None

    # --- ahead of the scrapes ----------------------------------------------------------------

    def prepare(self, horizon: float = PREPARE_HORIZON_S) -> int:
        """Compute ahead of time, outside the lock, the samples of every unit whose samples
        expire within ``horizon`` seconds of the clock's now, as of the instant they expire (the
        next scrape after it swaps them in instead of computing; see units.py), parsing first
        the facts of a municipality adopted from a snapshot when one of its units needs them.
        Returns how many units were prepared. The exporter runs this on a thread between scrapes
        (:meth:`start_preparing`), so a scrape computes only what changed since."""
        with self._lock:
            if self._was_up is not True:
                return 0
            as_of, thresholds = self.clock(), self._thresholds()
            due = sorted((entry.now.valid_until, municipality, unit)
                         for municipality, cached in self._cache.items() for unit, entry in cached.units.items()
                         if entry.now is not None and entry.ahead is None and entry.now.thresholds is thresholds
                         and entry.now.valid_until <= as_of + horizon)
        prepared = 0
        for at, municipality, unit in due:
            with self._lock:
                cached = self._cache.get(municipality)
                entry = cached.units.get(unit) if cached is not None else None
            if entry is None:
                continue
            if entry.items is None:
                cached = self._parse_ahead(municipality, cached)
                entry = cached.units.get(unit) if cached is not None else None
                if entry is None or entry.items is None:
                    continue
            now = self.clock()
            when = now if at <= now else entry.ahead_instant(at, self.clocks)
            computed = compute(entry, municipality, unit, when, thresholds, self.clocks, self.display_names)
            computed.lines()  # rendered here too, not in the scrape
            with self._lock:
                here = self._cache.get(municipality)
                if here is not None and here.units.get(unit) is entry and entry.ahead is None:
                    entry.ahead = computed
                    prepared += 1
        return prepared

    def _parse_ahead(self, municipality: str, cached: Municipality) -> Municipality | None:
        """Parse an adopted municipality's facts and put them in the cache, its adopted samples
        kept, unless its version moved or a scrape replaced it meanwhile (then that scrape reads it)."""
        try:
            version = self.source.versions([municipality]).get(municipality)
            if version != cached.version:
                return None
            parsed = self._parsed(municipality, version, self.source.read_facts_raw(municipality), cached)
        except self.unavailable:
            return None
        with self._lock:
            if self._cache.get(municipality) is not cached:
                return None
            self._cache[municipality] = parsed
        return parsed

    def start_preparing(self, every: float = 1.0) -> threading.Event:
        """Run :meth:`prepare` on a daemon thread every ``every`` seconds; set the returned
        event to stop it."""
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(every):
                try:
                    self.prepare()
                except Exception:  # noqa: BLE001 - the scrape computes what was not prepared
                    log.exception("computing samples ahead of time failed; the scrapes compute them")

        threading.Thread(target=run, name="casewatch-exporter-prepare", daemon=True).start()
        return stop

    def _save_snapshots(self, thresholds: Thresholds) -> None:
        fp = fingerprint(thresholds, self.clocks)
        documents = []
        for municipality in sorted(self.snapshots.dirty):
            cached = self._cache.get(municipality)
            if cached is None:
                continue
            # with the lines the exposition renders anyway, so that a restart need not
            units = {u: SavedUnit(e.earliest, e.now.computed_at, e.now.valid_until, e.name, e.now.samples, e.now.lines())
                        if e.now is not None and e.now.thresholds is thresholds
                        else SavedUnit(e.earliest, 0.0, -math.inf, e.name, None)
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
        for _municipality, cached in active:
            for entry in cached.exposed:
                scrape.add_samples(entry.now.samples)
        scrape.add_pipeline(stats, as_of, self.wall_clock())
        scrape.set_up(stale_age is None)
        if stale_age is not None:
            scrape.set_stale(stale_age)
        return scrape

    def exposition(self, names: Collection[str] | None = None) -> bytes:
        """This collector's metrics in the Prometheus text format (0.0.4): :meth:`exposition_parts` joined."""
        return b"".join(self.exposition_parts(names))

    def exposition_parts(self, names: Collection[str] | None = None) -> list[bytes]:
        """This collector's metrics in the Prometheus text format (0.0.4) as parts to write one
        after the other: one per unit family, from the text kept per municipality and family
        (text.py), then the pipeline's families; only the families ``names`` when given (the
        ``name[]`` parameter of a scrape)."""
        with self._lock:
            now = self._units_now()
            rest = Scrape()  # the pipeline's families and casewatch_redis_up
            rest.set_up(now is not None and now[3] is None)
            parts = []
            if now is not None:
                as_of, stats, active, stale_age = now
                if stale_age is not None:
                    rest.set_stale(stale_age)
                parts = self._text.parts(active, names)
                rest.add_pipeline(stats, as_of, self.wall_clock())
            parts.append(generate_latest(Families(only(rest.pipeline_families(), names))))
            return parts

    @property
    def cached_cases(self) -> int:
        return sum(m.cases for m in self._cache.values())
