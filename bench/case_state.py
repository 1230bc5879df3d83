"""CaseState benchmark: stored bytes and encode/decode/fold µs per case, this format against the last.

    python bench/case_state.py [--months 24] [--population 50000] [--rounds 5]

The worker decodes, folds and encodes every case a batch touches (streams/agents.py), so these
costs are per touched case per batch. Measured on the simulator's cases (one municipality) and
on payment-heavy cases (22,000 and 200,000 payments, sequential and UUID event ids), for:

- ``before``: every event whole, zlib JSON (the "z" format, still read);
- ``after``: payments compacted to columns and 64-bit id hashes (:mod:`streams.case_state`).

Both are timed in the same run, rounds interleaved, best round kept; the ratio is the figure to
trust on a shared machine (the load average is printed with it).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import orjson  # noqa: E402

from services.simulator import SimulationSpec, simulate  # noqa: E402
from streams.case_state import CaseState  # noqa: E402
from streams.contract.validate import Event, validate_line  # noqa: E402
from streams.core.facts import facts_to_json, fold_case  # noqa: E402
from streams.core.timeutil import format_ts  # noqa: E402


class Before:
    """The previous format: ``event_id`` → ``[ts, code, unit, payload]``, zlib JSON."""

    def __init__(self, municipality: str, events: dict) -> None:
        self.municipality, self.events = municipality, events

    def to_bytes(self) -> bytes:
        return b"z" + zlib.compress(orjson.dumps(self.events), 6)

    @classmethod
    def from_bytes(cls, municipality: str, raw: bytes) -> "Before":
        return cls(municipality, orjson.loads(zlib.decompress(raw[1:])))

    def facts_json(self) -> bytes:
        return facts_to_json(fold_case(self.municipality, ((ts, code, i, unit, tuple(p))
                                                           for i, (ts, code, unit, p) in self.events.items())))


def cases_of(lines) -> list[list[Event]]:
    cases: dict[tuple, list] = {}
    for line in lines:
        e = validate_line(line)
        if type(e) is Event:
            cases.setdefault((e.municipality, e.case_id), []).append(e)
    return list(cases.values())


def payments(n: int, uuids: bool) -> list[Event]:
    rnd = random.Random(1)
    out = []
    for i in range(n):
        eid = str(uuid.UUID(int=rnd.getrandbits(128))) if uuids else f"pay-{i:07d}"
        line = orjson.dumps({"event_id": eid, "type": "payment.made",
                             "occurred_at": format_ts(946684800 + i * 3600 + rnd.randint(0, 1800)),
                             "municipality": "0138", "unit": "eb-1", "case_id": "c1",
                             "data": {"amount_sek": rnd.randint(400, 1500) * 10}})
        e = validate_line(line)
        if type(e) is Event:  # a random UUID may read as a personnummer: rejected, left out
            out.append(e)
    return out


def states(cases: list[list[Event]]) -> tuple[list, list, int]:
    """Both formats of each case; how many events the new one refused (its byte budget)."""
    before, after, refused = [], [], 0
    for events in cases:
        new = CaseState(events[0].municipality, events[0].case_id)
        old: dict = {}
        for e in events:
            if new.add(e) is None:
                refused += 1
            old.setdefault(e.event_id, [e.ts, e.code, e.unit, list(e.payload)])
        before.append(Before(events[0].municipality, old))
        after.append(new)
    return before, after, refused


def timed(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(label: str, cases: list[list[Event]], rounds: int) -> None:
    before, after, refused = states(cases)
    n_events = sum(len(c) for c in cases)
    old_raw = [s.to_bytes() for s in before]
    new_raw = [s.to_bytes() for s in after]
    m = len(cases)
    print(f"{label}: {m} cases, {n_events} events, load {os.getloadavg()[0]:.1f}")
    print(f"  bytes/case  before {sum(map(len, old_raw)) / m:9.0f}  after {sum(map(len, new_raw)) / m:9.0f}"
          f"   largest before {max(map(len, old_raw))} after {max(map(len, new_raw))}"
          + (f"   ({refused} events refused: case_too_large)" if refused else ""))
    figures = {}
    for name, old, new in (
        ("to_bytes", lambda: [s.to_bytes() for s in before], lambda: [s.to_bytes() for s in after]),
        ("from_bytes", lambda: [Before.from_bytes(s.municipality, r) for s, r in zip(before, old_raw)],
         lambda: [CaseState.from_bytes(s.municipality, s.case_id, r) for s, r in zip(after, new_raw)]),
        ("facts_json", lambda: [s.facts_json() for s in before], lambda: [s.facts_json() for s in after]),
    ):
        t_old = t_new = float("inf")
        for _ in range(rounds):  # interleaved: both see the same machine
            t_old = min(t_old, timed(old, 1))
            t_new = min(t_new, timed(new, 1))
        figures[name] = (t_old / m * 1e6, t_new / m * 1e6)
    print("  µs/case     " + "   ".join(f"{k} {a:,.1f} -> {b:,.1f} ({b / a:.2f}x)" for k, (a, b) in figures.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--population", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    spec = SimulationSpec(municipalities=1, population=args.population, months=args.months, seed=1)
    measure(f"simulator ({args.months} months, population {args.population})", cases_of(simulate(spec)),
            args.rounds)
    for n in (22_000, 200_000):
        for uuids in (False, True):
            measure(f"one case of {n:,} payments, {'UUID' if uuids else 'sequential'} ids",
                    [payments(n, uuids)], max(1, args.rounds // 2))


if __name__ == "__main__":
    main()
