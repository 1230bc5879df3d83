"""Benchmark: the board's year forecast made at each month's end against the year's outcome.

Simulates (seeded, cached in bench/.data/) two years for several municipalities and, for the
second year, compares the forecast of the event-borne costs (placements, consultants,
economic assistance) made at the end of January..November with the year's actual outcome.
Prints, per month, the mean and the largest absolute error over the municipalities, and
whether the target holds (within ±5 % from April, ±2 % from August).

Run: python bench/forecast_backtest.py [--municipalities 3] [--seeds 11,12] [--year 2024]
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
DATA = HERE / ".data"

TARGETS = ((8, 2.0), (4, 5.0))  # (from month, largest error in percent)


def simulated_years(municipalities: int, seed: int, year: int) -> Path:
    from services.simulator import SimulationSpec, simulate
    from streams.core.timeutil import STOCKHOLM

    path = DATA / f"backtest-{municipalities}x24-seed{seed}-{year}.jsonl"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        spec = SimulationSpec(months=24, municipalities=municipalities, seed=seed,
                              end=datetime(year + 1, 1, 1, tzinfo=STOCKHOLM))
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb", buffering=1 << 20) as out:
            out.writelines(simulate(spec))
        tmp.rename(path)
    return path


def target_for(month: int) -> float | None:
    for first, limit in TARGETS:
        if month >= first:
            return limit
    return None


def main() -> int:
    from services.snapshot.backtest import backtest
    from services.snapshot.figures import load_replay, municipalities

    parser = argparse.ArgumentParser()
    parser.add_argument("--municipalities", type=int, default=3)
    parser.add_argument("--seeds", default="11,12")
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    errors: dict[int, list[float]] = {m: [] for m in range(1, 12)}
    for seed in (int(s) for s in args.seeds.split(",")):
        replay = load_replay(simulated_years(args.municipalities, seed, args.year))
        for mun in municipalities(replay):
            for row in backtest(replay, mun, args.year):
                errors[row.month].append(row.error_pct)
            print(f"seed {seed} {mun}: " + " ".join(f"{e[-1]:+.1f}" for e in errors.values()), file=sys.stderr)
    ok = True
    print("| forecast made at end of | mean abs. error | largest abs. error | target |")
    print("|---|---:|---:|---|")
    for month, values in errors.items():
        worst = max(abs(v) for v in values)
        mean = sum(abs(v) for v in values) / len(values)
        limit = target_for(month)
        met = "" if limit is None else ("±%g %% ✓" % limit if worst <= limit else "±%g %% ✗" % limit)
        ok &= limit is None or worst <= limit
        print(f"| {datetime(args.year, month, 1):%B} | {mean:.1f} % | {worst:.1f} % | {met} |")
    print(f"\n{sum(len(v) for v in errors.values()) // 11} simulated years; target {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
