"""Benchmark: `/metrics` at national scale (290 municipalities x 10 units, ~1.2 M cases).

    python bench/scrape.py [--municipalities 290] [--population 36000] [--months 12] [--runs 3] [--scrapes 100]

Targets (issue 20): a warm scrape in process <= 0.1 s (p95), the first answer after an exporter
restart <= 5 s, every other scrape < 1 s. Needs the local stack's Redis (``casewatch stack up``;
its address from ``.stack/stack.json``).

1. A projection as the worker writes it: the simulator's events for ``--municipalities`` of
   ``--population`` people each (Sweden: ~10.5 M over 290) with 10 units each (bou-1..5,
   vuxen-1..3, eb-1..2: the simulator takes a unit's kind from its name), by default 12 months
   to a fixed end instant; every case folded and serialised as the worker does. The nation is
   simulated in groups of 29 municipalities, group g with seed 7 + g, each group's municipalities
   renamed to their national codes: the simulator seeds a municipality from the seed and its
   position, so all 290 worlds differ, and the replay holds one group's events at a time
   (~0.25 GB instead of ~2.5 GB). That is ~5.4 M events and ~1.17 M cases: ~35 minutes at a load
   average of 13 (~5 idle), cached in bench/.data/, so reruns load them in seconds.
2. The facts go to Redis under a fresh prefix, whose keys are deleted at the end, even on error.
3. Scrape time in these situations, the clock 15 s on at every scrape (Prometheus' interval), so
   units whose figures change with time are recomputed as they would be live:
     cold     a new collector reads and parses every municipality (the exporter's first scrape
              on a projection no exporter served before: no snapshot)
     restart  a new collector where a previous one left its snapshot of computed samples
              (services/exporter/snapshot.py): the warm-up after an exporter restart
     restart+changed  the same after 20 cases of ``--changed`` municipalities were rewritten
     warm, nothing prepared  ``--scrapes`` scrapes with nothing written meanwhile and nothing
              computed ahead (right after the restart: expiring units' municipalities are parsed)
     warm     the same with the exporter's preparing pass before each scrape
              (KpiCollector.prepare, the thread that computes units' samples ahead of their
              instant; its own time is the "prepare" row)
     changed  20 cases of ``--changed`` municipalities (the largest) rewritten with other bytes
              before each scrape, so their versions move and they are re-read
   in this process as what /metrics serves (the collector's exposition parts and the process
   metrics; cold ``--cold-runs`` times, restarts ``--runs`` times), then as HTTP GETs of
   /metrics (gzip, as Prometheus asks) from `casewatch exporter` run as a subprocess, started
   once cold and ``--runs`` times on the snapshot (timed from the process start to the end of
   its first answer), then ``--http-scrapes`` warm GETs and as many after a change, at a fixed
   instant (CASEWATCH_AS_OF): the in-process runs' last, for which the snapshot they left holds
   (an earlier instant makes an HTTP "restart" a cold start).

Prints the cases, units, metric families, samples (= series) and exposition bytes; per scenario
n, min/p50/p95/max seconds (in process also the median read/compute split), the load average
range during it, and the verdict; then the exporter subprocess' RSS and peak RSS after its
first answer (cold: every case parsed; restart: the adopted samples), after the warm GETs and
after the changed ones.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from prometheus_client import generate_latest  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from services.exporter import KpiCollector, ThresholdsFile, build_registry  # noqa: E402
from services.simulator import SimulationSpec, simulate_chunks  # noqa: E402
from services.simulator.generate import municipality_codes  # noqa: E402
from services.stack import read_stack  # noqa: E402
from streams.projection import PipelineHealth, RedisProjection  # noqa: E402
from streams.core.facts import facts_to_json, fold_case  # noqa: E402
from streams.core.replay import Replay  # noqa: E402
from streams.core.timeutil import STOCKHOLM, format_ts  # noqa: E402

DATA = REPO / "bench" / ".data"
TARGET_S = 1.0
WARM_UP_TARGET_S = 5.0  # the first answer after an exporter restart (the restart scenarios)
WARM_TARGET_S = 0.1  # a warm scrape in process (issue 20)
UNITS = tuple([f"bou-{i}" for i in range(1, 6)] + [f"vuxen-{i}" for i in range(1, 4)] + ["eb-1", "eb-2"])
END = datetime(2024, 5, 17, 14, tzinfo=STOCKHOLM)  # fixed, so the cache stays valid; mid-month for month-to-date
CASES_CHANGED = 20  # per changed municipality: about what a worker writes there between two scrapes

Case = tuple[str, str, bytes]  # (municipality, case_id, facts JSON): what RedisProjection.write_cases takes


GROUP = 29  # municipalities simulated together: the replay's memory is per group, not national


def folded_cases(spec: SimulationSpec) -> list[Case]:
    """The folded facts of every simulated case, from the cache (built on first use)."""
    tag = hashlib.sha1(repr((spec, GROUP)).encode()).hexdigest()[:8]  # any change of the spec: another file
    path = DATA / f"facts-{spec.municipalities}x{spec.population}-{spec.months}m-{tag}.tsv"
    if not path.exists():
        _build(spec, path)
    with open(path, "rb") as f:
        return [(m.decode(), c.decode(), facts) for m, c, facts in
                (line.rstrip(b"\n").split(b"\t", 2) for line in f)]


def _build(spec: SimulationSpec, path: Path) -> None:
    """Simulates the municipalities in groups of GROUP, group g with seed ``spec.seed + g``,
    folds each group's cases as the worker does and renames its municipalities to the codes of
    their national positions. The simulator seeds each municipality from the seed and its
    position, so every municipality's world is distinct, and the folded facts are exactly what
    the worker would write for those events; only the replay's memory (~450 B an event) is held
    for one group at a time instead of the nation's ~5 M events."""
    started = time.perf_counter()
    codes = municipality_codes(spec.municipalities)
    DATA.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    events = 0
    with open(tmp, "wb", buffering=1 << 20) as out:  # facts JSON never holds a tab or a newline
        for g, first in enumerate(range(0, spec.municipalities, GROUP)):
            group = replace(spec, municipalities=min(GROUP, spec.municipalities - first), seed=spec.seed + g)
            events += _fold_group(group, dict(zip(municipality_codes(group.municipalities), codes[first:])), out)
            print(f"  group {g + 1}: {events:,} events so far, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)
    tmp.rename(path)
    print(f"simulated and folded {events:,} events into {path.name} "
          f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _fold_group(spec: SimulationSpec, rename: dict[str, str], out) -> int:
    replay = Replay()
    for chunk in simulate_chunks(spec):
        replay.add_lines(chunk)
    for (municipality, case_id), records in replay.cases.items():
        code = rename[municipality]
        facts = facts_to_json(fold_case(code, records.values()))
        out.write(b"%s\t%s\t%s\n" % (code.encode(), case_id.encode(), facts))
    return replay.accepted


class Changer:
    """Between two scrapes, rewrites cases of the largest municipalities as a worker batch would.
    Each case takes the facts of another case of its municipality, different at every turn, so the
    stored bytes really change and the collector re-parses them (equal bytes it would skip)."""

    def __init__(self, source: RedisProjection, cases: list[Case], municipalities: int) -> None:
        by_municipality: dict[str, list[Case]] = defaultdict(list)
        for case in cases:
            by_municipality[case[0]].append(case)
        self.source = source
        self.picked = sorted(by_municipality.values(), key=len, reverse=True)[:municipalities]
        self.turn = 0

    def __call__(self) -> None:
        self.turn += 1
        self.source.write_cases((mine[i][0], mine[i][1], mine[(i + self.turn) % len(mine)][2])
                                for mine in self.picked for i in range(min(CASES_CHANGED, len(mine))))


def load() -> str:
    return "load %.1f" % os.getloadavg()[0]


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(resident, peak resident) MB of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))


def in_process(source: RedisProjection, as_of: float, runs: int, scrapes: int,
               change: Changer, cold_runs: int = 1) -> tuple[dict, bytes, float]:
    """(scenario -> [(seconds, read_s, compute_s, load)], the last exposition): what /metrics
    serves (the collector's exposition and the process metrics), the clock 15 s on at every
    scrape (Prometheus' interval), so units whose figures change with time are recomputed as
    live. In "warm" and "changed" the collector's preparing pass (the exporter's thread between
    scrapes, KpiCollector.prepare) runs before each scrape, timed apart as "prepare"; "warm,
    nothing prepared" shows the scrape without it."""
    def scrape(collector: KpiCollector, registry) -> tuple[float, float, float, str]:
        nonlocal body
        clock["t"] += 15.0
        started = time.perf_counter()
        body = collector.exposition_parts()  # what the server writes, part by part
        body.append(generate_latest(registry.process))
        seconds = time.perf_counter() - started
        return seconds, collector.last_scrape["read_s"], collector.last_scrape["compute_s"], load()

    def prepare(collector: KpiCollector) -> tuple[float, float, float, str]:
        started = time.perf_counter()
        collector.prepare()
        return time.perf_counter() - started, 0.0, 0.0, load()

    body: list[bytes] = []
    clock = {"t": as_of}
    times: dict[str, list] = {"cold": [], "restart": [], "restart+changed": [], "warm, nothing prepared": [],
                              "warm": [], "prepare": [], "changed": []}
    for _ in range(cold_runs):
        forget_snapshots(source)  # a first start: no exporter ran on this projection before
        collector = KpiCollector(source, thresholds=ThresholdsFile(), clock=lambda: clock["t"])
        registry = build_registry(collector)  # the exporter's registry, process_* metrics included
        times["cold"].append(scrape(collector, registry))
    for scenario in ("restart", "restart+changed"):
        for _ in range(runs):  # a restart: the previous collector's snapshot is there
            if scenario == "restart+changed":
                change()
            collector = KpiCollector(source, thresholds=ThresholdsFile(), clock=lambda: clock["t"])
            registry = build_registry(collector)
            times[scenario].append(scrape(collector, registry))
    # the restarted collector's facts are parsed by the preparing pass as its units come due
    for _ in range(scrapes):
        times["warm, nothing prepared"].append(scrape(collector, registry))
    for _ in range(scrapes):
        times["prepare"].append(prepare(collector))
        times["warm"].append(scrape(collector, registry))
    for _ in range(scrapes):
        change()
        times["prepare"].append(prepare(collector))
        times["changed"].append(scrape(collector, registry))
    # the snapshot as the exporter keeps it at most every 30 s, written now (untimed), so that it
    # holds at the last instant, where the HTTP runs restart
    collector.snapshots.last_write = -math.inf
    collector.exposition()
    return times, b"".join(body), clock["t"]  # the last instant: the snapshot left in Redis holds for it


def forget_snapshots(source: RedisProjection) -> None:
    keys = list(source.client.scan_iter(f"{source.prefix}:exporter:*", count=1000))
    if keys:
        source.client.delete(*keys)


class Exporter:
    """`casewatch exporter` as a subprocess on a free port (port 0: it reports the one it bound)."""

    def __init__(self, env: dict, log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "services.commands", "exporter", "--log-level", "warning"],
                                         env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=out)
        deadline = time.monotonic() + 60
        while not (found := re.search(rb"http://[^/\s]+:(\d+)/metrics", log.read_bytes())):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the exporter did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{int(found.group(1))}/metrics"

    def get(self) -> tuple[float, int]:
        """Seconds for one GET of /metrics, whole body read, and the bytes on the wire."""
        request = urllib.request.Request(self.url, headers={"Accept-Encoding": "gzip"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=1800) as response:  # a cold start at load: minutes
            size = len(response.read())
        return time.perf_counter() - started, size

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def over_http(env: dict, tmp: Path, runs: int, change: Changer, source: RedisProjection,
              scenarios: tuple[str, ...] = ("cold", "restart"), scrapes: int = 30) -> tuple[dict, int, dict]:
    """(scenario -> [(seconds, load)], gzip bytes of the last response, scenario -> the
    exporter's (RSS, peak RSS) MB after it) via HTTP GETs of /metrics; for cold and restart the
    seconds from starting `casewatch exporter` to its first full answer (its warm-up: the
    process start, the read of the projection, the KPIs), cold run once (minutes at national
    scale); then ``scrapes`` warm GETs and ``scrapes`` GETs each after a change."""
    times: dict[str, list] = {**{s: [] for s in scenarios}, "warm": [], "changed": []}
    memory: dict[str, tuple[float, float]] = {}
    exporter = None
    try:
        for scenario in scenarios:
            for _ in range(1 if scenario == "cold" else runs):
                if exporter is not None:
                    exporter.stop()
                if scenario == "cold":
                    forget_snapshots(source)
                started = time.perf_counter()
                exporter = Exporter(env, tmp / "exporter.log")
                exporter.get()  # the first GET waits for the warm-up (the collector's lock)
                times[scenario].append((time.perf_counter() - started, load()))
                memory[scenario] = rss_mb(exporter.proc.pid)
        for _ in range(scrapes):
            times["warm"].append((exporter.get()[0], load()))
        memory["warm"] = rss_mb(exporter.proc.pid)
        for _ in range(scrapes):
            change()
            seconds, wire = exporter.get()
            times["changed"].append((seconds, load()))
        memory["changed"] = rss_mb(exporter.proc.pid)
    finally:
        if exporter is not None:
            exporter.stop()
    return times, wire, memory


def delete_prefix(source: RedisProjection) -> None:
    batch = []
    for key in source.client.scan_iter(f"{source.prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            source.client.delete(*batch)
            batch.clear()
    if batch:
        source.client.delete(*batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--municipalities", type=int, default=290)
    parser.add_argument("--population", type=int, default=36_000, help="per municipality (10.5 M / 290)")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="starts per restart scenario")
    parser.add_argument("--scrapes", type=int, default=100, help="in-process scrapes per warm/changed scenario")
    parser.add_argument("--http", choices=("all", "restart", "none"), default="all",
                        help="over HTTP: every scenario, all but cold (the snapshot the in-process runs left), none")
    parser.add_argument("--cold-runs", type=int, default=1, help="in-process cold starts (minutes each at national scale)")
    parser.add_argument("--http-scrapes", type=int, default=30, help="warm and changed GETs over HTTP")
    parser.add_argument("--changed", type=int, default=1, help="municipalities changed before each 'changed' scrape")
    parser.add_argument("--data-only", action="store_true",
                        help="build (or check) the cached projection in bench/.data/ and stop: needs no stack")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a kill still runs the clean-up below

    spec = SimulationSpec(municipalities=args.municipalities, population=args.population, months=args.months,
                          end=END, seed=args.seed, units_per_municipality=UNITS)
    cases = folded_cases(spec)
    if args.data_only:
        print(f"{len(cases):,} cases cached in {DATA}")
        return
    url = read_stack()["redis"]["url"]
    source = RedisProjection.from_url(url, prefix=f"bscrape-{uuid.uuid4().hex[:8]}")
    source.client.ping()  # fail before anything is written when the stack is down
    try:
        for i in range(0, len(cases), 10_000):
            source.write_cases(cases[i:i + 10_000])
        # the pipeline hash as a caught-up worker leaves it, so its metrics are in the exposition too
        source.record_pipeline(PipelineHealth("bench", {"accepted": len(cases)}, {}, END.timestamp(), 0))
        change = Changer(source, cases, args.changed)
        local, body, last = in_process(source, END.timestamp(), args.runs, args.scrapes, change, args.cold_runs)
        report(cases, args, body, local, {}, 0, {})
        env = {**os.environ, "PYTHONPATH": str(REPO), "CASEWATCH_REDIS_URL": url, "CASEWATCH_REDIS_PREFIX": source.prefix,
               "CASEWATCH_EXPORTER_PORT": "0", "CASEWATCH_AS_OF": format_ts(last)}
        env.pop("CASEWATCH_CONFIG_FILE", None)  # only this run's settings
        http, wire, memory = {}, 0, {}
        if args.http != "none":
            with TemporaryDirectory(prefix="casewatch-bench-") as tmp:
                http, wire, memory = over_http(env, Path(tmp), args.runs, change, source,
                                               ("cold", "restart") if args.http == "all" else ("restart",),
                                               args.http_scrapes)

    finally:
        delete_prefix(source)
        source.client.close()

    if http:
        report(cases, args, body, {}, http, wire, memory)


def report(cases: list, args, body: bytes, local: dict, http: dict, wire: int, memory: dict) -> None:
    families = list(text_string_to_metric_families(body.decode()))
    samples = [s for f in families for s in f.samples]
    units = {(s.labels["municipality"], s.labels["unit"]) for s in samples if "unit" in s.labels}
    print(f"projection: {len(cases):,} cases, {args.municipalities} municipalities x {len(UNITS)} units "
          f"({len(units):,} units exported), population {args.population:,} each, {args.months} months")
    print(f"exposition: {len(families)} metric families, {len(samples):,} samples (series), "
          f"{len(body):,} bytes ({wire:,} gzip over HTTP)")
    print(f"{'scenario':<34}{'n':>4}{'min s':>8}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'read s':>8}{'compute s':>10}"
          f"  {'load':<12}target")
    for way, results in (("in-process", local), ("HTTP", http)):
        for scenario, runs in results.items():
            seconds = sorted(r[0] for r in runs)
            p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
            loads = sorted(float(r[-1].split()[1]) for r in runs)
            split = (f"{statistics.median(r[1] for r in runs):>8.3f}{statistics.median(r[2] for r in runs):>10.3f}"
                     if way == "in-process" else f"{'-':>8}{'-':>10}")
            print(f"{way + ' ' + scenario:<34}{len(seconds):>4}{seconds[0]:>8.3f}{statistics.median(seconds):>8.3f}"
                  f"{p95:>8.3f}{seconds[-1]:>8.3f}{split}  {loads[0]:>4.1f}-{loads[-1]:<6.1f} "
                  f"{verdict(way, scenario, seconds[-1] if scenario.startswith('restart') else p95)}")
    for scenario, (rss, peak) in memory.items():
        print(f"exporter memory after HTTP {scenario}: RSS {rss:,.0f} MB, peak {peak:,.0f} MB")


def verdict(way: str, scenario: str, seconds: float) -> str:
    if scenario == "prepare":
        return "(the thread's pass between two scrapes)"
    if scenario.startswith("restart"):
        target, what = WARM_UP_TARGET_S, "max"
    elif way == "in-process" and scenario == "warm":
        target, what = WARM_TARGET_S, "p95"
    else:
        target, what = TARGET_S, "p95"
    return f"{what} <= {target:g} s {'met' if seconds <= target else 'NOT met'}"


if __name__ == "__main__":
    main()
