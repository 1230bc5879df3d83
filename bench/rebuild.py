"""Rebuild benchmark: from an empty worker state and an empty Redis to figures identical to replay.

    python bench/rebuild.py [--events 1000000] [--partitions 8] [--workers 1 4] [--year-events 10000000]

Needs the local stack (``casewatch stack up``; addresses from ``.stack/stack.json``).

What an operator lives through after losing the worker's data directory *and* Redis (or when
standing up a new site from the case topic): every event on the case topic is read again,
folded into the worker's table and projected to Redis.

1. ``--events`` simulated events (the project's simulator, many municipalities, 12 months) are
   produced to a fresh case topic of ``--partitions`` partitions.
2. For each count in ``--workers``: that many ``casewatch worker`` processes start at once on an
   empty data directory each, a fresh consumer group and a fresh Redis prefix. The rebuild time
   runs from their start (Faust's start, group join and table recovery included) until the
   pipeline counters in Redis have seen every event.
3. The figures are then checked: ``kpis.compute`` over the facts in Redis must equal
   ``casewatch replay`` over the same events at the latest event's instant, for every unit and
   key (the check is not timed).
4. The time for a national year (``--year-events``, ~10 M by default) is extrapolated linearly
   from the measured events/s: the fold and the Redis writes are per event and per case, and
   RocksDB tables keep the per-event cost flat as they grow (measured here; the printout gives
   the first and second halves' rates so a slowdown shows).

Everything shares the machine (Kafka, Redis, the workers, this script); the load average is
printed with the figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from streaming import (WorkerProcess, _cleanup, _delete_topics, processed, produce_all,  # noqa: E402
                       worker_env)

from services.kafka_topics import ensure_topics  # noqa: E402
from services.simulator import SimulationSpec, simulate_chunks  # noqa: E402
from services.stack import read_stack  # noqa: E402
from streams.core.kpis import Period, compute  # noqa: E402
from streams.core.replay import Replay  # noqa: E402
from streams.core.timeutil import STOCKHOLM  # noqa: E402
from streams.projection import RedisProjection  # noqa: E402

END = datetime(2024, 11, 28, 14, tzinfo=STOCKHOLM)
PROGRESS_EVERY = 60.0  # seconds between progress lines


def simulated(n: int) -> list[bytes]:
    """About ``n`` events of a simulated year: municipalities of 36,000 people (~16k events each)."""
    spec = SimulationSpec(municipalities=max(1, -(-n // 15_000)), population=36_000, months=12, end=END, seed=5)
    lines: list[bytes] = []
    for chunk in simulate_chunks(spec):
        lines.extend(line.rstrip(b"\n") for line in chunk)
        if len(lines) >= n:
            break
    return lines[:n]


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def rebuild(stack: dict, tag: str, n: int, partitions: int, workers: int, tmp: Path) -> dict:
    prefix = f"r{uuid.uuid4().hex[:8]}"
    store = RedisProjection.from_url(stack["redis"]["url"], prefix)
    group = f"{tag}-w{workers}-{uuid.uuid4().hex[:6]}"
    procs: list[WorkerProcess] = []
    started = time.perf_counter()
    half_t = first_t = None
    try:
        for i in range(workers):
            env = worker_env(stack, tag, prefix, tmp / f"data-{group}-{i}")
            env.update({"CASEWATCH_PARTITIONS": str(partitions), "CASEWATCH_CONSUMER_GROUP": group})
            procs.append(WorkerProcess(env, tmp / f"worker-{group}-{i}.log", "rocksdb", 0.1))
        deadline = time.monotonic() + 4 * 3600
        next_report = time.perf_counter() + PROGRESS_EVERY
        while True:
            done = processed(store)
            now = time.perf_counter()
            if now >= next_report:  # a run stopped early still leaves a measured rate behind
                next_report = now + PROGRESS_EVERY
                print(f"  {workers} worker(s): {done:,} events after {now - started:.0f} s "
                      f"({done / (now - started):,.0f}/s so far); load {load()}", flush=True)
            if first_t is None and done > 0:
                first_t = now
            if half_t is None and done >= n // 2:
                half_t = now
            if done >= n:
                break
            dead = [p for p in procs if p.proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise SystemExit(f"a worker stopped or the rebuild timed out at {done:,}/{n:,}; see {tmp}")
            time.sleep(0.2)
        seconds = now - started
        loadavg = load()
        check_started = time.perf_counter()
        facts = [f for m in store.municipalities() for f in store.read_facts(m)]
        return {"workers": workers, "seconds": seconds, "startup_s": (first_t or now) - started,
                "first_half_eps": (n // 2) / ((half_t or now) - (first_t or started)),
                "second_half_eps": (n - n // 2) / (now - (half_t or now)) if half_t and now > half_t else float("nan"),
                "eps": n / seconds, "load": loadavg, "facts": facts,
                "read_back_s": time.perf_counter() - check_started}
    finally:
        for p in procs:
            p.stop()
        _cleanup(store)
        store.client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--year-events", type=int, default=10_000_000, help="a simulated national year")
    args = parser.parse_args()
    stack = read_stack()
    if not stack.get("kafka") or not stack.get("redis"):
        raise SystemExit("no local stack: run `casewatch stack up` first")
    bootstrap = stack["kafka"]["bootstrap"]
    t = time.perf_counter()
    lines = simulated(args.events)
    n = len(lines)
    print(f"simulated {n:,} events in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    replay = Replay()
    replay.add_lines(lines)
    as_of = replay.latest
    expected = replay.result(as_of, Period.month_to_date(as_of))["units"]
    print(f"replay: {replay.accepted:,} accepted, {len(replay.cases):,} cases, "
          f"{sum(len(u) for u in expected.values()):,} units in {time.perf_counter() - t:.0f} s", flush=True)
    del replay
    tag = f"rebuild.{uuid.uuid4().hex[:10]}"
    ensure_topics(bootstrap, f"{tag}.case-events", f"{tag}.dead-letter", args.partitions)
    try:
        produce_s = produce_all(bootstrap, f"{tag}.case-events", lines)
        print(f"produced to {args.partitions} partitions in {produce_s:.0f} s (load {load()})", flush=True)
        del lines
        with TemporaryDirectory(prefix="casewatch-rebuild-") as tmp_name:
            for workers in args.workers:
                r = rebuild(stack, tag, n, args.partitions, workers, Path(tmp_name))
                got = compute(r.pop("facts"), as_of, Period.month_to_date(as_of))
                identical = got == expected
                year_s = args.year_events / r["eps"]
                print(f"{workers} worker(s), {args.partitions} partitions: {n:,} events rebuilt in {r['seconds']:.0f} s "
                      f"= {r['eps']:,.0f} events/s (start to first event {r['startup_s']:.1f} s; first half "
                      f"{r['first_half_eps']:,.0f}/s, second half {r['second_half_eps']:,.0f}/s); load {r['load']}; "
                      f"figures identical to replay: {identical}", flush=True)
                print(f"  a national year of {args.year_events:,} events at this rate: {year_s / 60:.0f} min "
                      f"({year_s / 3600:.1f} h)", flush=True)
                if not identical:
                    raise SystemExit("the rebuilt figures differ from replay")
    finally:
        _delete_topics(bootstrap, tag)


if __name__ == "__main__":
    main()
