"""Benchmark: the text of a warm national scrape kept in parts, against joining it whole, in one run.

    python bench/exposition_text.py [--municipalities 290] [--rounds 60]

Needs no stack. The exporter's own code computes the samples of every unit of a simulated
municipality pair (36,000 people each, 12 months, 10 units each, as bench/scrape.py), and those
units' samples, relabelled, stand for ``--municipalities`` municipalities: the national text
(~22 MB at 290). Then, each round, one unit's samples change (one figure, as when a deadline
passes: what the collector does between two warm scrapes) and the text a scrape hands the server
is produced both ways:

  parts   services/exporter/text.py: one municipality's chunks and the changed families
          re-joined, then gzip part by part (services/exporter/gzip_parts.py), what the server
          writes now;
  whole   as before issue 20's last cut: the municipality's chunks, then every family's header
          and chunks joined into one body, then gzip.compress of that body (level 1).

Prints per way p50/p95 seconds (text alone and text + gzip), the ratio and the load average.
"""
from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.exporter import KpiCollector  # noqa: E402
from services.exporter.gzip_parts import GzipParts  # noqa: E402
from services.exporter.metrics import UNIT_FAMILIES  # noqa: E402
from services.exporter.text import HEADERS, UnitText  # noqa: E402
from services.exporter.units import Computed, Municipality, Unit  # noqa: E402
from services.simulator import SimulationSpec, simulate  # noqa: E402
from services.simulator.spec import municipality_codes  # noqa: E402
from streams.core.facts import facts_to_json, fold_case  # noqa: E402
from streams.core.replay import Replay  # noqa: E402
from streams.core.timeutil import STOCKHOLM  # noqa: E402
from streams.projection_memory import MemoryProjection  # noqa: E402

UNITS = tuple([f"bou-{i}" for i in range(1, 6)] + [f"vuxen-{i}" for i in range(1, 4)] + ["eb-1", "eb-2"])
END = datetime(2024, 5, 17, 14, tzinfo=STOCKHOLM)


def computed_units() -> list[list[tuple[str, Computed]]]:
    """Per simulated municipality, its units' computed samples, as the collector keeps them."""
    spec = SimulationSpec(municipalities=2, population=36_000, months=12, end=END, seed=7,
                          units_per_municipality=UNITS)
    replay = Replay()
    replay.add_lines(simulate(spec))
    source = MemoryProjection()
    source.write_cases((m, c, facts_to_json(fold_case(m, records.values())))
                       for (m, c), records in replay.cases.items())
    collector = KpiCollector(source, clock=END.timestamp)
    collector.exposition()
    return [[(unit, entry.now) for unit, entry in sorted(cached.units.items()) if entry.now is not None]
            for _m, cached in sorted(collector._cache.items())]


def relabelled(now: Computed, municipality: str, bump: float = 0.0) -> Computed:
    """The same unit's samples under another municipality code; ``bump`` added to its first."""
    samples = [(name, [municipality, *labels[1:]], value) for name, labels, value in now.samples]
    name, labels, value = samples[0]
    samples[0] = (name, labels, value + bump)
    made = Computed(samples, now.computed_at, now.valid_until, now.thresholds, now.name)
    made.lines()
    return made


def whole_text(active: list[tuple[str, Municipality]]) -> bytes:
    """The unit families' text as the exporter joined it before: one body, whenever anything changed."""
    for _m, cached in active:
        if cached.chunks is None:
            lines = [entry.now.lines() for entry in cached.exposed]
            cached.chunks = {name: b"".join(t[name] for t in lines if name in t) for name in UNIT_FAMILIES}
    parts = []
    for name in UNIT_FAMILIES:
        parts.append(HEADERS[name])
        parts.extend(chunk for _m, cached in active if (chunk := cached.chunks.get(name)))
    return b"".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--municipalities", type=int, default=290)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()

    pair = computed_units()
    worlds = {}
    for way in ("parts", "whole"):  # each way its own objects, so that neither reuses the other's text
        active = []
        for i, code in enumerate(municipality_codes(args.municipalities)):
            units = {unit: Unit(None, 0.0, now=relabelled(now, code)) for unit, now in pair[i % len(pair)]}
            active.append((code, Municipality(1, 0, units, exposed=[units[u] for u in sorted(units)])))
        worlds[way] = active
    text, gzipper = UnitText(), GzipParts()
    b"".join(gzipper.compress(text.parts(worlds["parts"])))  # the first scrape: everything built
    whole_text(worlds["whole"])
    times: dict[str, list[float]] = {"parts": [], "parts + gzip": [], "whole": [], "whole + gzip": []}
    loads = []
    for turn in range(1, args.rounds + 1):
        for way, active in worlds.items():  # the same change in both worlds
            code, cached = active[turn * 7 % len(active)]
            unit = cached.exposed[turn % len(cached.exposed)]
            unit.now = relabelled(unit.now, code, bump=1.0)
            cached.chunks = None  # what the collector does when a unit's samples change
            started = time.perf_counter()
            if way == "parts":
                body = text.parts(active)
                made = time.perf_counter()
                body = gzipper.compress(body)
            else:
                body = whole_text(active)
                made = time.perf_counter()
                body = gzip.compress(body, compresslevel=1)
            done = time.perf_counter()
            times[way].append(made - started)
            times[way + " + gzip"].append(done - started)
        loads.append(os.getloadavg()[0])
    size = len(whole_text(worlds["whole"]))
    print(f"{args.municipalities} municipalities x {len(UNITS)} units, {size:,} bytes of unit text, "
          f"{args.rounds} rounds, one unit changed before each, load {min(loads):.1f}-{max(loads):.1f}")
    p50 = {}
    for way, seconds in times.items():
        seconds.sort()
        p50[way] = statistics.median(seconds)
        print(f"{way:<14} p50 {p50[way]:.4f} s  p95 {seconds[round(0.95 * (len(seconds) - 1))]:.4f} s")
    print(f"whole / parts (p50): text {p50['whole'] / p50['parts']:.1f}x, "
          f"with gzip {p50['whole + gzip'] / p50['parts + gzip']:.1f}x")


if __name__ == "__main__":
    main()
