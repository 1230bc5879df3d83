"""Benchmark: `casewatch replay` against a bare `json.loads` pass over the same file, in one run.

Issue 20's target: the whole replay process (start-up, validation, fold, KPIs, JSON out) within
2x a bare ``json.loads`` of every line, and at most 150 bytes of peak resident memory per event.
Two files of about a million events each: one from the project's simulator, one from
``bench/independent_events.py`` (written from CONTRACT.md alone: other spacing, key order, UUID
ids, ``Z`` timestamps with milliseconds, extra fields, re-sends). Both are cached in bench/.data/.

The machine is shared, so the ratio is taken on CPU time (user + system, of this process for the
parse pass and of the replay child from ``wait4``), which a busy neighbour disturbs far less than
wall time; wall times are printed too. Run: python bench/replay.py [--events 1000000] [--runs 1]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
sys.path.insert(0, str(HERE.parent))


def simulated_file(target_events: int, seed: int) -> Path:
    """A cached simulated file of exactly ``target_events`` lines (the first of a larger run)."""
    from services.simulator import SimulationSpec, simulate

    path = DATA / f"simulated-{target_events}-seed{seed}.jsonl"
    if not path.exists():
        probe = sum(1 for _ in simulate(SimulationSpec(municipalities=1, months=12, seed=seed)))
        municipalities = max(1, -(-target_events * 105 // 100 // probe))  # a margin: at least the target
        DATA.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        started = time.perf_counter()
        with open(tmp, "wb", buffering=1 << 20) as out:
            for n, line in enumerate(simulate(SimulationSpec(municipalities=municipalities, months=12, seed=seed)), 1):
                out.write(line)
                if n >= target_events:
                    break
        tmp.rename(path)
        print(f"simulated {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def independent_file(target_events: int, seed: int) -> Path:
    path = DATA / f"independent-{target_events}-seed{seed}.jsonl"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        subprocess.run([sys.executable, str(HERE / "independent_events.py"), "--events", str(target_events),
                        "--seed", str(seed), "--out", str(tmp)], check=True)
        tmp.rename(path)
    return path


def cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def parse_pass(path: Path, loads) -> tuple[float, float, int]:
    """(CPU s, wall s, lines) of decoding every line with ``loads``, reading included."""
    before, started = cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)), time.perf_counter()
    lines = 0
    with open(path, "rb", buffering=1 << 20) as f:
        for line in f:
            loads(line)
            lines += 1
    return cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - before, time.perf_counter() - started, lines


def replay_process(path: Path, command: list[str], cwd: Path) -> tuple[float, float, int, bytes]:
    """(CPU s, wall s, peak RSS bytes, stdout) of one `casewatch replay FILE --json` process."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        child = subprocess.Popen([*command, "replay", str(path), "--json"], stdout=subprocess.PIPE,
                                 stderr=devnull, cwd=cwd, env={**os.environ, "PYTHONHASHSEED": "0"})
        out = child.stdout.read()
        _pid, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"replay failed on {path}: status {status}")
    return cpu_seconds(usage), time.perf_counter() - started, usage.ru_maxrss * 1024, out


def bench_file(label: str, path: Path, runs: int, command: list[str], cwd: Path, outputs: Path | None) -> dict:
    parse_cpu, parse_wall, lines = min(parse_pass(path, json.loads) for _ in range(runs))
    orjson_cpu = None
    try:
        import orjson

        orjson_cpu = min(parse_pass(path, orjson.loads) for _ in range(runs))[0]
    except ImportError:  # pragma: no cover
        pass
    results = [replay_process(path, command, cwd) for _ in range(runs)]
    replay_cpu, replay_wall, peak, out = min(results, key=lambda r: r[0])
    if outputs is not None:  # for a byte-for-byte comparison with another tree's output
        outputs.mkdir(parents=True, exist_ok=True)
        (outputs / f"{label}.json").write_bytes(out)
    row = {
        "file": label, "lines": lines, "mb": path.stat().st_size / 1e6,
        "json_loads_cpu_s": parse_cpu, "json_loads_wall_s": parse_wall, "orjson_loads_cpu_s": orjson_cpu,
        "replay_cpu_s": replay_cpu, "replay_wall_s": replay_wall, "ratio": replay_cpu / parse_cpu,
        "events_per_s": lines / replay_cpu, "peak_mb": peak / 1e6, "bytes_per_event": peak / lines,
        "output_bytes": len(out), "load": os.getloadavg()[0],
    }
    print(f"{label}: {lines:,} lines, {row['mb']:,.0f} MB; load {row['load']:.1f}")
    print(f"  json.loads pass  {parse_cpu:6.2f} s CPU ({parse_wall:.2f} s wall)"
          + (f"; orjson.loads {orjson_cpu:.2f} s CPU" if orjson_cpu is not None else ""))
    print(f"  replay --json    {replay_cpu:6.2f} s CPU ({replay_wall:.2f} s wall): {row['events_per_s']:,.0f} events/s,"
          f" {row['ratio']:.2f}x json.loads")
    print(f"  peak memory      {row['peak_mb']:,.0f} MB resident, {row['bytes_per_event']:,.0f} bytes per event")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=1, help="best of N (CPU time) for each measurement")
    parser.add_argument("--only", choices=("simulated", "independent"))
    parser.add_argument("--tree", type=Path, default=HERE.parent,
                        help="source tree whose `casewatch replay` is measured (e.g. a checkout of main)")
    parser.add_argument("--json-out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--outputs", type=Path, help="keep each replay's stdout here (<file>.json)")
    args = parser.parse_args()

    command = [sys.executable, "-m", "services.commands"]
    rows = []
    if args.only != "independent":
        rows.append(bench_file("simulated", simulated_file(args.events, args.seed), args.runs, command, args.tree, args.outputs))
    if args.only != "simulated":
        rows.append(bench_file("independent", independent_file(args.events, 3), args.runs, command, args.tree, args.outputs))
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
