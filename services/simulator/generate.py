"""A seeded generator of realistic casewatch event streams (CONTRACT.md events, JSONL bytes).

How it works
------------
The world runs day by day from a warm-up start (``model.WARMUP_DAYS`` before the window) to
``spec.end``. Each day, every unit draws its new arrivals (reports of concern, adult
investigations, applications for economic assistance); each arrival's whole life (screening,
investigation, decision, placement, payments, ...) is drawn at once and its events are filed
into per-day buckets keyed by *arrival* time. A bucket is sorted and written out once every
arrival that can land in it has been drawn, so the stream comes out in arrival order with
little memory. Cases born in the warm-up are kept only when still running at the window start
(their earlier events included), so backlogs and overdue items exist from the first day.
Running placements, households on assistance and staff exist from the start ("stock").

Everything is drawn from ``random.Random`` instances seeded from ``spec.seed`` and the
municipality's position, so the same spec gives the same bytes. Perturbations (late arrivals,
duplicates, malformed lines) use their own generators, so changing a rate leaves the world as is.

No id contains a run of more than five digits, so no valid line can hold a 10/12-digit personal
identity number (CONTRACT.md §1a); fake ones appear only in the deliberately invalid lines.
"""
from __future__ import annotations

from datetime import date
from random import Random
from typing import Iterator, Optional

from . import model as M
from .draws import Clock, b36, seed_tag
from .municipality import Municipality
from .spec import (INVALID_REASONS, TYPES, SimulationSpec, SimulationStats, default_end,
                   default_units, municipality_codes)
from .spoil import fake_personal_number, spoil
from .world import World

__all__ = ["INVALID_REASONS", "TYPES", "SimulationSpec", "SimulationStats", "b36", "default_end",
           "default_units", "fake_personal_number", "municipality_codes", "seed_tag", "simulate",
           "simulate_chunks", "simulate_labelled"]

# --- the stream ------------------------------------------------------------------------------------


TAIL = f',"source":"{M.SOURCE}"}}\n'


def _run(spec: SimulationSpec, stats: Optional[SimulationStats], labelled: bool,
         towns: Optional[list] = None) -> Iterator[list]:
    """Lists of lines (or (line, reason) pairs when ``labelled``), one per arrival day.
    ``towns``, when given, receives the simulated municipalities (their staff, for a ledger)."""
    clock = Clock()
    world = World(spec, clock)
    municipalities = [Municipality(world, code, i, spec)
                      for i, code in enumerate(municipality_codes(spec.municipalities))]
    if towns is not None:
        towns.extend(municipalities)
    for mun in municipalities:
        mun.init_stock()

    def arrivals(day: int) -> None:
        if day > world.last_day:
            return
        d = date.fromordinal(day)
        weekday = d.weekday()
        for mun in municipalities:
            mun.arrivals(day, weekday, d.month)

    invalid_rate = spec.invalid_rate
    irng = Random(f"casewatch-simulator/{spec.seed}/invalid")
    invalid_prefix = f"x-{seed_tag(spec.seed)}-"
    n_invalid = 0
    fmt = clock.fmt
    buckets = world.buckets
    arrivals(world.first_day)
    first = last = None
    for k in range(world.last_bucket + 1):
        arrivals(world.first_day + k + 1)
        bucket = buckets.pop(k, None)
        if not bucket:
            continue
        bucket.sort()
        lines: list = []
        append = lines.append
        for _arrival, _seq, occurred, recorded, event_id, head, case_id, data in bucket:
            if recorded:
                line = (f'{{"event_id":"{event_id}",{head}{case_id}","occurred_at":"{fmt(occurred)}",'
                        f'"recorded_at":"{fmt(recorded)}","data":{data}{TAIL}').encode()
            else:
                line = (f'{{"event_id":"{event_id}",{head}{case_id}","occurred_at":"{fmt(occurred)}",'
                        f'"data":{data}{TAIL}').encode()
            append((line, None) if labelled else line)
            if invalid_rate and irng.random() < invalid_rate:
                reason = INVALID_REASONS[int(irng.random() * len(INVALID_REASONS))]
                bad = spoil(line, reason, irng, invalid_prefix + b36(n_invalid))
                n_invalid += 1
                append((bad, reason) if labelled else bad)
        if stats is not None:
            stats.lines += len(lines)
            low = min(r[2] for r in bucket)
            high = max(r[2] for r in bucket)
            first = low if first is None or low < first else first
            last = high if last is None or high > last else last
        yield lines
    if stats is not None:
        stats.events = world.event_count
        stats.duplicates = world.duplicate_count
        stats.late = world.late_count
        stats.invalid = n_invalid
        stats.first_occurred_at = None if first is None else fmt(first)
        stats.last_occurred_at = None if last is None else fmt(last)



def simulate(spec: SimulationSpec) -> Iterator[bytes]:
    """JSONL lines (bytes, each ending in a newline) in arrival order. Deterministic per spec."""
    for lines in _run(spec, None, False):
        yield from lines


def simulate_chunks(spec: SimulationSpec, stats: Optional[SimulationStats] = None,
                    towns: Optional[list] = None) -> Iterator[list[bytes]]:
    """The same lines as :func:`simulate`, a list per arrival day (cheaper to write in bulk).
    ``towns`` receives the municipalities (see :mod:`services.simulator.ledger`)."""
    return _run(spec, stats, False, towns)


def simulate_labelled(spec: SimulationSpec) -> Iterator[tuple[bytes, Optional[str]]]:
    """(line, expected rejection reason or None) pairs: the same lines as :func:`simulate`."""
    for lines in _run(spec, None, True):
        yield from lines
