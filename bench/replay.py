"""Benchmark: `casewatch replay` on a simulated file of at least 2 million events.

Prints events/s and the peak resident memory of the replay process. The file is simulated once
(seeded) and cached in bench/.data/. Run: python bench/replay.py [--events 2000000]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"


def simulated_file(target_events: int, seed: int) -> Path:
    """A cached simulated file with about ``target_events`` events."""
    # ~100 municipalities of 50,000 over 12 months is ~2.6 million events (national scale is
    # 290 municipalities of varying size); scale the count of municipalities to the target.
    from services.simulator import SimulationSpec, simulate

    probe = sum(1 for _ in simulate(SimulationSpec(municipalities=1, months=12, seed=seed)))
    municipalities = max(1, -(-target_events * 105 // 100 // probe))  # a margin: at least the target
    path = DATA / f"events-{municipalities}x12-seed{seed}.jsonl"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        started = time.perf_counter()
        with open(tmp, "wb", buffering=1 << 20) as out:
            out.writelines(simulate(SimulationSpec(municipalities=municipalities, months=12, seed=seed)))
        tmp.rename(path)
        print(f"simulated {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    path = simulated_file(args.events, args.seed)
    lines = count_lines(path)
    size_mb = path.stat().st_size / 1e6
    print(f"file: {path.name}: {lines:,} lines, {size_mb:,.0f} MB")
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "services.commands", "replay", str(path), "--json"],
                       check=True, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONHASHSEED": "0"})
        times.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    best = min(times)
    print(f"replay: best {best:.2f} s of {args.runs} (median {sorted(times)[len(times) // 2]:.2f} s)")
    print(f"throughput: {lines / best:,.0f} events/s on one core (whole process, incl. start-up)")
    print(f"peak memory: {peak_mb:,.0f} MB resident ({peak_mb * 1e6 / lines:,.0f} bytes per event)")


if __name__ == "__main__":
    main()
