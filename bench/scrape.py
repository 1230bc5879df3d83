"""Benchmark: `/metrics` scrape time at national scale (290 municipalities x 10 units). Target < 1 s.

    python bench/scrape.py [--municipalities 290] [--population 36000] [--months 12] [--runs 3]

Needs the local stack's Redis (``casewatch stack up``; its address from ``.stack/stack.json``).

1. A projection as the worker writes it: the simulator's events for ``--municipalities`` of
   ``--population`` people each (Sweden: ~10.5 M over 290) with 10 units each (bou-1..5,
   vuxen-1..3, eb-1..2: the simulator takes a unit's kind from its name), by default 12 months
   to a fixed end instant, seed 7; every case folded and serialised as the worker does. The
   national set (~4.7 M events, ~1 M cases) takes ~2 minutes and ~2 GB of memory to simulate
   and fold, so the folded facts are cached in bench/.data/ and reruns load them in seconds.
   A cold scrape takes ~25 s at that scale, so the whole run takes ~3.5 minutes (~5.5 uncached).
2. The facts go to Redis under a fresh prefix, whose keys are deleted at the end, even on error.
3. Scrape time, ``--runs`` times each, in these situations:
     cold     a new collector reads and parses every municipality (the exporter's first scrape
              on a projection no exporter served before: no snapshot)
     restart  a new collector where a previous one left its snapshot of computed samples
              (services/exporter/snapshot.py): the warm-up after an exporter restart
     restart+changed  the same after 20 cases of ``--changed`` municipalities were rewritten
              (in process only)
     warm     nothing changed since the previous scrape: KPIs recomputed from cached facts
     changed  20 cases of ``--changed`` municipalities (the largest) rewritten with other bytes
              since the previous scrape, so their versions move and they are re-read
   once in this process as what /metrics serves (the collector's cached exposition; the clock
   moves 15 s per scrape, so units whose figures change with time are recomputed), once as an HTTP
   GET of /metrics (gzip, as Prometheus asks) from `casewatch exporter` run as a subprocess,
   restarted for each cold and restart run (timed from the process start to the end of its first
   answer: the warm-up). KPIs are computed as of the simulation's end (the subprocess
   gets it through CASEWATCH_AS_OF), so month-to-date figures are realistic whenever it runs.

Prints the cases, units, metric families, samples (= series) and exposition bytes, then per
scenario min/median/max seconds (in-process also the median read/compute split of the
collector) and whether the target is met, meaning every run under 1 s (the warm-up target
after a restart is 5 s).
"""
from __future__ import annotations

import argparse
import hashlib
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
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from prometheus_client import generate_latest  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from services.exporter import KpiCollector, ThresholdsFile, build_registry  # noqa: E402
from services.simulator import SimulationSpec, simulate_chunks  # noqa: E402
from services.stack import read_stack  # noqa: E402
from streams.projection import PipelineHealth, RedisProjection  # noqa: E402
from streams.core.facts import facts_to_json, fold_case  # noqa: E402
from streams.core.replay import Replay  # noqa: E402
from streams.core.timeutil import STOCKHOLM, format_ts  # noqa: E402

DATA = REPO / "bench" / ".data"
TARGET_S = 1.0
WARM_UP_TARGET_S = 5.0  # the first answer after an exporter restart (the restart scenarios)
UNITS = tuple([f"bou-{i}" for i in range(1, 6)] + [f"vuxen-{i}" for i in range(1, 4)] + ["eb-1", "eb-2"])
END = datetime(2024, 5, 17, 14, tzinfo=STOCKHOLM)  # fixed, so the cache stays valid; mid-month for month-to-date
CASES_CHANGED = 20  # per changed municipality: about what a worker writes there between two scrapes

Case = tuple[str, str, bytes]  # (municipality, case_id, facts JSON): what RedisProjection.write_cases takes


def folded_cases(spec: SimulationSpec) -> list[Case]:
    """The folded facts of every simulated case, from the cache (built on first use)."""
    tag = hashlib.sha1(repr(spec).encode()).hexdigest()[:8]  # any change of the spec: another file
    path = DATA / f"facts-{spec.municipalities}x{spec.population}-{spec.months}m-{tag}.tsv"
    if not path.exists():
        _build(spec, path)
    with open(path, "rb") as f:
        return [(m.decode(), c.decode(), facts) for m, c, facts in
                (line.rstrip(b"\n").split(b"\t", 2) for line in f)]


def _build(spec: SimulationSpec, path: Path) -> None:
    # Its own function, so the replay's memory is released before the cache is read back.
    started = time.perf_counter()
    replay = Replay()
    for chunk in simulate_chunks(spec):
        replay.add_lines(chunk)
    DATA.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb", buffering=1 << 20) as out:  # facts JSON never holds a tab or a newline
        for (municipality, case_id), records in replay.cases.items():
            facts = facts_to_json(fold_case(municipality, records.values()))
            out.write(b"%s\t%s\t%s\n" % (municipality.encode(), case_id.encode(), facts))
    tmp.rename(path)
    print(f"simulated and folded {replay.accepted:,} events into {path.name} "
          f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)


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


def in_process(source: RedisProjection, as_of: float, runs: int, change: Changer) -> tuple[dict, bytes]:
    """(scenario -> [(seconds, read_s, compute_s)], the last exposition): what /metrics serves
    (the collector's exposition and the process metrics), the clock 15 s on at every scrape
    (Prometheus' interval), so units whose figures change with time are recomputed as live."""
    def scrape(collector: KpiCollector, registry) -> tuple[float, float, float]:
        nonlocal body
        clock["t"] += 15.0
        started = time.perf_counter()
        body = collector.exposition() + generate_latest(registry.process)
        return time.perf_counter() - started, collector.last_scrape["read_s"], collector.last_scrape["compute_s"]

    body = b""
    clock = {"t": as_of}
    times: dict[str, list] = {"cold": [], "restart": [], "restart+changed": [], "warm": [], "changed": []}
    for _ in range(runs):
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
    for _ in range(runs):
        times["warm"].append(scrape(collector, registry))
    for _ in range(runs):
        change()
        times["changed"].append(scrape(collector, registry))
    return times, body


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
        with urllib.request.urlopen(request, timeout=120) as response:
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


def over_http(env: dict, tmp: Path, runs: int, change: Changer, source: RedisProjection) -> tuple[dict, int]:
    """(scenario -> [seconds], gzip bytes of the last response) via HTTP GETs of /metrics; for
    cold and restart the seconds from starting `casewatch exporter` to its first full answer
    (its warm-up: the process start, the read of the projection, the KPIs)."""
    times: dict[str, list] = {"cold": [], "restart": [], "warm": [], "changed": []}
    exporter = None
    try:
        for scenario in ("cold", "restart"):
            for _ in range(runs):
                if exporter is not None:
                    exporter.stop()
                if scenario == "cold":
                    forget_snapshots(source)
                started = time.perf_counter()
                exporter = Exporter(env, tmp / "exporter.log")
                exporter.get()  # the first GET waits for the warm-up (the collector's lock)
                times[scenario].append(time.perf_counter() - started)
        for _ in range(runs):
            times["warm"].append(exporter.get()[0])
        for _ in range(runs):
            change()
            seconds, wire = exporter.get()
            times["changed"].append(seconds)
    finally:
        if exporter is not None:
            exporter.stop()
    return times, wire


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
    parser.add_argument("--runs", type=int, default=3, help="scrapes per scenario")
    parser.add_argument("--changed", type=int, default=1, help="municipalities changed before each 'changed' scrape")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a kill still runs the clean-up below

    spec = SimulationSpec(municipalities=args.municipalities, population=args.population, months=args.months,
                          end=END, seed=args.seed, units_per_municipality=UNITS)
    cases = folded_cases(spec)
    url = read_stack()["redis"]["url"]
    source = RedisProjection.from_url(url, prefix=f"bscrape-{uuid.uuid4().hex[:8]}")
    source.client.ping()  # fail before anything is written when the stack is down
    try:
        for i in range(0, len(cases), 10_000):
            source.write_cases(cases[i:i + 10_000])
        # the pipeline hash as a caught-up worker leaves it, so its metrics are in the exposition too
        source.record_pipeline(PipelineHealth("bench", {"accepted": len(cases)}, {}, END.timestamp(), 0))
        change = Changer(source, cases, args.changed)
        local, body = in_process(source, END.timestamp(), args.runs, change)
        env = {**os.environ, "PYTHONPATH": str(REPO), "CASEWATCH_REDIS_URL": url, "CASEWATCH_REDIS_PREFIX": source.prefix,
               "CASEWATCH_EXPORTER_PORT": "0", "CASEWATCH_AS_OF": format_ts(END.timestamp())}
        env.pop("CASEWATCH_CONFIG_FILE", None)  # only this run's settings
        with TemporaryDirectory(prefix="casewatch-bench-") as tmp:
            http, wire = over_http(env, Path(tmp), args.runs, change, source)
    finally:
        delete_prefix(source)
        source.client.close()

    families = list(text_string_to_metric_families(body.decode()))
    samples = [s for f in families for s in f.samples]
    units = {(s.labels["municipality"], s.labels["unit"]) for s in samples if "unit" in s.labels}
    print(f"projection: {len(cases):,} cases, {args.municipalities} municipalities x {len(UNITS)} units "
          f"({len(units):,} units exported), population {args.population:,} each, {args.months} months")
    print(f"exposition: {len(families)} metric families, {len(samples):,} samples (series), "
          f"{len(body):,} bytes ({wire:,} gzip over HTTP)")
    print(f"{'scenario':<20}{'runs':>5}{'min s':>8}{'median s':>10}{'max s':>8}{'read s':>8}{'compute s':>11}"
          f"  target")
    for way, results in (("in-process", local), ("HTTP", http)):
        for scenario, runs in results.items():
            seconds = [r[0] if isinstance(r, tuple) else r for r in runs]
            split = (f"{statistics.median(r[1] for r in runs):>8.3f}{statistics.median(r[2] for r in runs):>11.3f}"
                     if way == "in-process" else f"{'-':>8}{'-':>11}")
            print(f"{way + ' ' + scenario:<20}{len(seconds):>5}{min(seconds):>8.3f}{statistics.median(seconds):>10.3f}"
                  f"{max(seconds):>8.3f}{split}  {verdict(scenario, max(seconds))}")


def verdict(scenario: str, seconds: float) -> str:
    target = WARM_UP_TARGET_S if scenario.startswith("restart") else TARGET_S
    return f"< {target:g} s {'met' if seconds < target else 'NOT met'}"


if __name__ == "__main__":
    main()
