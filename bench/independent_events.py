"""Contract-valid v2 events from a generator that is not the project's simulator.

Written from CONTRACT.md alone, it imports nothing from ``streams`` or ``services``, and it
writes the shapes other case systems write rather than ours: ``json.dumps`` spacing and key
order, UUID event ids, ``Z`` timestamps with milliseconds or local offsets, the optional
``recorded_at`` and ``source``, now and then an extra field the contract drops, a few exact
re-sends (duplicates). Case flows are loose on purpose (random, not a model of a municipality):
the point is to feed the replay lines it was not tuned on.

Run: python bench/independent_events.py --events 1000000 --out events.jsonl [--seed 3]
"""
from __future__ import annotations

import argparse
import json
import random
import uuid
from datetime import datetime, timedelta, timezone

STOCKHOLM_WINTER = timezone(timedelta(hours=1))
STOCKHOLM_SUMMER = timezone(timedelta(hours=2))
UNITS = ("mottagning-1", "bou-1", "bou-2", "vald-1", "behandling-1", "vuxen-1", "eb-1")
REPORTERS = ("skola", "polis", "halso_sjukvard", "socialtjanst", "anonym", "annan")
AREAS = ("barn_unga", "vuxna", "ekonomiskt_bistand", "vald_i_nara_relation", "annan")
INTERVENTIONS = ("familjebehandling", "kontaktfamilj", "kontaktperson", "placement", "stodboende", "annan")
PLACEMENT_TYPES = ("hvb", "sis", "familjehem", "familjehem_arvoderat", "jourhem", "skyddat_boende", "stodboende")
SOURCES = ("treserva-export", "lifecare-export", "procapita-export", "viva-export")


class Writer:
    """One source system's way of writing events."""

    def __init__(self, rng: random.Random, municipality: str, style: int) -> None:
        self.rng = rng
        self.municipality = municipality
        self.style = style  # 0: json.dumps defaults, Z + ms; 1: compact, local offset; 2: sorted keys
        self.source = SOURCES[style % len(SOURCES)]

    def stamp(self, t: datetime) -> str:
        if self.style == 0:
            return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
        zone = STOCKHOLM_SUMMER if 4 <= t.month <= 9 else STOCKHOLM_WINTER
        return t.astimezone(zone).isoformat(timespec="seconds")

    def line(self, type_: str, t: datetime, unit: str, case_id: str, data: dict) -> str:
        event = {"event_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), "type": type_,
                 "occurred_at": self.stamp(t), "municipality": self.municipality, "unit": unit,
                 "case_id": case_id, "data": data}
        if self.rng.random() < 0.5:
            event["recorded_at"] = self.stamp(t + timedelta(minutes=self.rng.randint(0, 600)))
        if self.style != 1:
            event["source"] = self.source
        if self.rng.random() < 0.05:
            event["export_batch"] = self.rng.randint(1, 99)  # an extra field: dropped by the contract
        if self.style == 0:
            return json.dumps(event, ensure_ascii=False)
        if self.style == 1:
            return json.dumps(event, separators=(",", ":"))
        return json.dumps(event, sort_keys=True)


def case_events(w: Writer, rng: random.Random, case_id: str, start: datetime, end: datetime):
    """A loose case: some of report, screening, investigations, decisions, placements, payments."""
    t = start
    unit = rng.choice(UNITS)
    step = lambda lo, hi: timedelta(hours=rng.uniform(lo, hi))  # noqa: E731
    kind = rng.random()
    if kind < 0.08:  # economic assistance
        unit = "eb-1"
        for _ in range(rng.randint(1, 4)):
            yield t, w.line("application.received", t, unit, case_id, {"new_applicant": rng.random() < 0.3})
            t += step(24, 24 * 20)
            yield t, w.line("application.decided", t, unit, case_id, {"granted": rng.random() < 0.8})
            for _ in range(rng.randint(0, 6)):
                t += step(24 * 10, 24 * 40)
                yield t, w.line("payment.made", t, unit, case_id, {"amount_sek": round(rng.uniform(500, 14000), 2)})
        return
    yield t, w.line("report.received", t, unit, case_id,
                    {"reporter": rng.choice(REPORTERS), "age_band": rng.choice(("0-12", "13-17"))})
    if rng.random() < 0.7:
        t += step(1, 30)
        yield t, w.line("report.protection_assessed", t, unit, case_id, {"immediate_protection": rng.random() < 0.1})
    t += step(24, 24 * 16)
    opened = rng.random() < 0.45
    yield t, w.line("report.screened", t, unit, case_id,
                    {"outcome": "investigation_opened" if opened else "no_investigation"})
    if not opened:
        return
    if rng.random() < 0.3:
        to_unit = rng.choice(UNITS)
        yield t, w.line("case.transferred", t, unit, case_id, {"to_unit": to_unit})
        unit = to_unit
    for episode in range(rng.choice((1, 1, 1, 2))):
        t += step(1, 24 * 20)
        area = rng.choice(AREAS)
        yield t, w.line("investigation.opened", t, unit, case_id, {"area": area})
        if rng.random() < 0.1:
            t += step(24 * 60, 24 * 110)
            yield t, w.line("investigation.extended", t, unit, case_id, {"new_due": w.stamp(t + timedelta(days=60))})
        t += step(24 * 20, 24 * 130)
        outcome = "decision" if rng.random() < 0.6 else "no_action"
        yield t, w.line("investigation.closed", t, unit, case_id, {"outcome": outcome})
        if outcome != "decision":
            continue
        for d in range(rng.randint(1, 2)):
            decision_id = f"{case_id}-b{episode}{d}"
            intervention = rng.choice(INTERVENTIONS)
            yield t, w.line("decision.made", t, unit, case_id,
                            {"decision_id": decision_id, "intervention": intervention,
                             "legal_basis": rng.choice(("sol", "sol", "sol", "lvu")), "sex": rng.choice(("kvinna", "man"))})
            if rng.random() < 0.1:
                yield t, w.line("decision.delay_reason", t + step(24 * 30, 24 * 60), unit, case_id,
                                {"decision_id": decision_id, "reason": "ingen_resurs"})
            te = t + step(24, 24 * 120)
            yield te, w.line("decision.enforced", te, unit, case_id, {"decision_id": decision_id})
            if rng.random() < 0.05:
                ti = te + step(24 * 10, 24 * 60)
                yield ti, w.line("decision.interrupted", ti, unit, case_id, {"decision_id": decision_id})
                ti += step(24 * 5, 24 * 120)
                yield ti, w.line("decision.resumed", ti, unit, case_id, {"decision_id": decision_id})
            if intervention == "placement":
                pid = f"{case_id}-p{episode}{d}"
                cost = rng.choice((1800, 2400, 3500, 7200, 9800))
                yield te, w.line("placement.started", te, unit, case_id,
                                 {"placement_id": pid, "placement_type": rng.choice(PLACEMENT_TYPES),
                                  "daily_cost_sek": cost, "legal_basis": rng.choice(("sol", "lvu"))})
                tp = te
                for _ in range(rng.randint(0, 3)):
                    tp += step(24 * 20, 24 * 90)
                    yield tp, w.line("placement.cost_changed", tp, unit, case_id,
                                     {"placement_id": pid, "daily_cost_sek": cost + rng.randint(-500, 900)})
                if rng.random() < 0.6:
                    tp += step(24 * 30, 24 * 200)
                    yield tp, w.line("placement.ended", tp, unit, case_id, {"placement_id": pid})
            if rng.random() < 0.5:
                tend = te + step(24 * 60, 24 * 300)
                yield tend, w.line("decision.ended", tend, unit, case_id, {"decision_id": decision_id})


def staff_events(w: Writer, rng: random.Random, n: int, start: datetime, end: datetime):
    span = (end - start).total_seconds()
    for i in range(n):
        staff_id = f"s{w.municipality}-{i:05d}"
        t = start + timedelta(seconds=rng.uniform(0, span * 0.5))
        consultant = rng.random() < 0.15
        data = {"staff_id": staff_id, "role": rng.choice(("socialsekreterare", "socialsekreterare", "arbetsledare",
                                                            "behandlare")),
                "employment": "consultant" if consultant else "permanent", "fte": rng.choice((1, 1, 0.75, 0.5))}
        if consultant:
            data["daily_cost_sek"] = rng.choice((6500, 7200, 8000))
        unit = rng.choice(UNITS)
        yield t, w.line("staff.joined", t, unit, staff_id, data)
        if rng.random() < 0.3:
            tl = t + timedelta(seconds=rng.uniform(0, span * 0.5))
            yield tl, w.line("staff.left", tl, unit, staff_id, {"staff_id": staff_id})


def generate(target: int, seed: int):
    """About ``target`` lines (at least), in roughly arrival order with some shuffling and re-sends."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    end = datetime(2026, 1, 1, tzinfo=timezone.utc)
    span = (end - start).total_seconds()
    written = 0
    m = 0
    while written < target:
        municipality = f"{(m * 37 + 114) % 2600 + 100:04d}"
        w = Writer(rng, municipality, m % 3)
        m += 1
        buffered = list(staff_events(w, rng, rng.randint(20, 60), start, end))
        for c in range(4000):
            case_id = f"{rng.choice(('A', 'K', 'U'))}-{c}-{rng.getrandbits(32):08x}"
            t0 = start + timedelta(seconds=rng.uniform(0, span))
            buffered.extend(e for e in case_events(w, rng, case_id, t0, end) if e[0] <= end)
        buffered.sort(key=lambda e: e[0] + timedelta(hours=rng.uniform(0, 72)))  # late arrivals
        for _t, line in buffered:
            yield line + "\n"
            written += 1
            if rng.random() < 0.01:  # an exact re-send
                yield line + "\n"
                written += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.out, "w", encoding="utf-8", buffering=1 << 20) as out:
        for n, line in enumerate(generate(args.events, args.seed), 1):
            out.write(line)
            if n >= args.events:
                break


if __name__ == "__main__":
    main()
