"""Benchmark: the board's year forecast made at each month's end against the year's outcome.

Simulates (seeded, cached in bench/.data/) two years for several municipalities and, for the
second year, compares the forecast of the event-borne costs (placements, consultants,
economic assistance) made at the end of January..November with the year's actual outcome.
Prints, per month, the mean and the largest absolute error over the municipalities, and
whether the target holds (within ±5 % from April, ±2 % from August).

The forecast's method was chosen on seeds 11-13; the default seeds (21-24) are held out from that.

Run: python bench/forecast_backtest.py [--municipalities 3] [--seeds 21,22,23,24] [--year 2024] [--jobs 4]
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
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


def oracle_errors(facts, year: int, actual_total: float) -> list[float]:
    """The placements' part of an oracle forecast, in % of the year's outcome, made at the end of
    January..November: it knows the simulator's true mean stay per type and group (children,
    adults) and, with hindsight, the starts' rate and mean price over both simulated years; a
    running placement's remaining stay is then exponential (memoryless) by construction. What
    is left is the future's own chance: no forecast from the events can do better on average."""
    from math import exp

    from services.simulator import model as M
    from services.snapshot.figures import Month
    from streams.core.kpis import placement_cost
    from streams.core.timeutil import local_day

    def group_mean(p) -> tuple[str, float]:
        child = not p.unit.startswith("vuxen")
        return ("barn" if child else "vuxna",
                (M.PLACEMENT_MEAN_DAYS if child else M.ADULT_PLACEMENT_MEAN_DAYS)[p.placement_type])

    placements = [p for case in facts for p in case.placements]
    y0, y1 = date(year - 1, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()
    starts: dict[tuple[str, float], list[float]] = {}
    for p in placements:
        if y0 <= local_day(p.started) < y1:
            starts.setdefault(group_mean(p), []).append(p.costs[0][1])
    end = Month(year, 12).as_of
    out = []
    for month in range(1, 12):
        as_of = Month(year, month).as_of
        lo, hi = local_day(as_of) + 1, y1
        rest = hi - lo
        actual = oracle = 0.0
        for p in placements:
            ended = local_day(p.ended) if p.ended is not None else hi
            if max(local_day(p.started), lo) < min(ended, hi):
                actual += placement_cost(p, end, max(local_day(p.started), lo), min(ended, hi))
            if p.started <= as_of and (p.ended is None or p.ended > as_of):
                mean = group_mean(p)[1]
                cost = next((c for ts, c in reversed(p.costs) if ts <= as_of), p.costs[0][1])
                oracle += cost * mean * (1 - exp(-rest / mean))
        for (_group, mean), costs in starts.items():
            # each start on a day u of the rest runs mean x (1 - exp(-(rest - u) / mean)) days in it
            oracle += len(costs) / (y1 - y0) * sum(costs) / len(costs) * mean * (rest - mean * (1 - exp(-rest / mean)))
        out.append((oracle - actual) / actual_total * 100)
    return out


def errors_of_seed(municipalities: int, seed: int, year: int) -> dict[str, tuple[list[float], list[float]]]:
    """{municipality: (error % of the forecast made at the end of January..November, the
    oracle's placements-only error %)}."""
    from services.snapshot.backtest import backtest
    from services.snapshot.figures import Month, facts_of, load_replay, municipalities as codes

    replay = load_replay(simulated_years(municipalities, seed, year))
    out = {}
    for mun in codes(replay):
        rows = backtest(replay, mun, year)
        oracle = oracle_errors(facts_of(replay, mun, Month(year, 12).as_of), year, rows[0].actual_sek)
        out[mun] = ([row.error_pct for row in rows], oracle)
        print(f"seed {seed} {mun}: " + " ".join(f"{e:+.1f}" for e in out[mun][0])
              + " | oracle " + " ".join(f"{e:+.1f}" for e in oracle), file=sys.stderr, flush=True)
    return out


def main() -> int:
    from concurrent.futures import ProcessPoolExecutor

    parser = argparse.ArgumentParser()
    parser.add_argument("--municipalities", type=int, default=3)
    parser.add_argument("--seeds", default="21,22,23,24")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--jobs", type=int, default=1, help="seeds simulated and tested in parallel")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    for seed in seeds:  # simulate first (cached), so parallel jobs never write the same file
        simulated_years(args.municipalities, seed, args.year)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(errors_of_seed, [args.municipalities] * len(seeds), seeds, [args.year] * len(seeds)))
    errors: dict[int, list[float]] = {m: [] for m in range(1, 12)}
    oracle: dict[int, list[float]] = {m: [] for m in range(1, 12)}
    for by_mun in results:
        for values, best in by_mun.values():
            for month, (value, floor) in enumerate(zip(values, best), start=1):
                errors[month].append(value)
                oracle[month].append(floor)
    years = len(errors[1])
    ok = True
    print(f"Seeds {args.seeds}; {args.municipalities} municipalities each; {years} simulated years ({args.year}).\n")
    print("| forecast made at end of | mean abs. error | largest abs. error | years within target | target "
          "| oracle, placements alone: mean / largest |")
    print("|---|---:|---:|---:|---|---:|")
    for month, values in errors.items():
        best = oracle[month]
        floor = f"{sum(abs(v) for v in best) / len(best):.1f} % / {max(best, key=abs):+.1f} %"
        worst = max(values, key=abs)
        mean = sum(abs(v) for v in values) / len(values)
        limit = target_for(month)
        within = "" if limit is None else f"{sum(1 for v in values if abs(v) <= limit)} of {len(values)}"
        met = "" if limit is None else ("±%g %% ✓" % limit if abs(worst) <= limit else "±%g %% ✗" % limit)
        ok &= limit is None or abs(worst) <= limit
        print(f"| {datetime(args.year, month, 1):%B} | {mean:.1f} % | {worst:+.1f} % | {within} | {met} | {floor} |")
    print(f"\ntarget {'met' if ok else 'NOT met'} for every simulated year")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
