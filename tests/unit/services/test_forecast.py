"""The year forecast worked by hand (the tail of the durations, assistance by households' spells),
the simulated ledger against the simulated staff, last year's outcome from the board's file."""
from __future__ import annotations

from datetime import date, datetime
from math import exp, isclose

from services.simulator import SimulationSpec
from services.simulator.generate import simulate_chunks
from services.simulator.ledger import SALARY_2024, PERSONNEL_OVERHEAD, write_ledger
from services.snapshot.config import Activity, BoardConfig, load_config
from services.snapshot.economy import economy
from services.snapshot.figures import Month, facts_of, load_replay
from services.snapshot.forecast import Spell, Survival
from services.snapshot.ledger import read_ledger
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM, local_day
from tests.events import ev, line


def test_the_tail_runs_at_the_rate_seen_beyond_the_last_reliable_step():
    # 25 end on day 10 (45 at risk: a step), then 10 run on to age 12 and 10 end on day 30 (10 at
    # risk: too few for a step). Contracts of bounded length end faster when old: beyond day 10
    # the rate is the 10 endings over the 10 x 2 + 10 x 20 days observed there, not the overall rate.
    spells = [Spell(10, True)] * 25 + [Spell(12, False)] * 10 + [Spell(30, True)] * 10
    s = Survival(spells)
    assert s.reliable_to == 10
    assert isclose(s(10), 20 / 45)
    assert isclose(s.hazard, 10 / 220)
    assert isclose(s(20), 20 / 45 * exp(-10 / 220 * 10))
    # fewer than three endings beyond the last step: the overall rate, as before
    few = Survival([Spell(10, True)] * 25 + [Spell(12, False)] * 10 + [Spell(30, True)] * 2)
    assert isclose(few.hazard, 27 / (250 + 120 + 60))


def _payments(case: str, months: list[tuple[int, int]], amount: int) -> list[dict]:
    return [ev("payment.made", f"{y}-{m:02d}-25T10:00:00+01:00", case=case, unit="eb-1", amount_sek=amount)
            for y, m in months]


def test_assistance_forecast_follows_households_by_hand():
    # October 2024, two months left. 20 households were paid January-March (spells of 3 months),
    # 20 January-June (6 months), both ended; one is paid August-October at 5 000 kr (running,
    # 3 months so far: known to last at least 3).
    events = []
    for i in range(20):
        events += _payments(f"s{i}", [(2024, m) for m in (1, 2, 3)], 8000)
        events += _payments(f"l{i}", [(2024, m) for m in range(1, 7)], 9000)
    events += _payments("run", [(2024, 8), (2024, 9), (2024, 10)], 5000)
    replay = Replay()
    replay.add_lines(line(e) for e in events)
    config = BoardConfig(board="Nämnd", administration="", goal_areas=(), activities=(
        Activity("eb", "Ekonomiskt bistånd", ("eb-*",), ("ekonomiskt_bistand",), 3_000_000.0),))
    month = Month(2024, 10)
    row = economy(config, facts_of(replay, "0138", month.as_of), month)["verksamheter"][0]
    parts = row["prognos_delar"]
    # Kaplan-Meier over months: at 3 months 40 at risk (the running one is not known to go on),
    # 20 end: S(3) = S(4) = 1/2. The running one is paid in November and December with the
    # chance its spell lasts 4 and 5 months given 3: S(3)/S(2) + S(4)/S(2) = 1
    assert isclose(parts["pagaende_bistand"], 5000 * (0.5 + 0.5))
    # new households: all 41 began within the trailing 12 months; at the mean payment of the last
    # three months (5 000); one starting in November is paid S(0) + S(1) = 2 times, in December once
    assert parts["hushall_nya"] == 41 and parts["hushall_pagaende"] == 1
    assert isclose(parts["nya_bistand"], 41 / 12 * 5000 * 3)
    assert isclose(row["arsprognos"], row["utfall_ack"] + parts["pagaende_bistand"] + parts["nya_bistand"])


def test_the_simulated_ledger_books_the_simulated_staff(tmp_path):
    """The SIE 4 file the simulator writes books the salaries of exactly the permanent staff its
    events employ, read back through the board's own reader."""
    spec = SimulationSpec(months=2, municipalities=1, seed=3, end=datetime(2024, 3, 1, tzinfo=STOCKHOLM))
    towns: list = []
    replay = Replay()
    for lines in simulate_chunks(spec, towns=towns):
        replay.add_lines(lines)
    path = write_ledger(tmp_path / "huvudbok.se", "0138", towns[0].staff_log, spec.population,
                        date(2024, 1, 1), date(2024, 2, 29))
    config = load_config()
    lines = read_ledger(path, config.ledger_dimension, config.ledger_exclude_accounts)
    assert path.read_bytes().startswith(b"#FLAGGA 0") and "Tyres\x94 kommun".encode("latin-1") in path.read_bytes()
    february = [x for x in lines if x.day == date(2024, 2, 25)]
    booked = sum(x.amount_sek for x in february if x.activity == "200" and x.account == "5011")
    lo, hi = date(2024, 2, 1).toordinal(), date(2024, 3, 1).toordinal()
    expected = 0.0
    for case in facts_of(replay, "0138", datetime(2024, 3, 1, tzinfo=STOCKHOLM).timestamp()):
        for s in case.staff:
            if s.employment != "permanent" or not s.unit.startswith("bou"):
                continue
            left = local_day(s.left) if s.left is not None else hi
            days = min(left, hi) - max(local_day(s.joined), lo)
            if days > 0:
                expected += SALARY_2024[s.role] * s.fte * days / 29
    assert expected > 0 and isclose(booked, expected, rel_tol=1e-6)
    overhead = sum(x.amount_sek for x in february if x.activity == "200" and x.account == "5611")
    assert isclose(overhead, booked * PERSONNEL_OVERHEAD, rel_tol=1e-6)
    # every cost centre of the board's activities is booked; the administration's premises too
    assert {x.activity for x in february} == {"100", "200", "300", "400"}
    assert any(x.account == "6110" and x.activity == "100" for x in february)
    # the board's economy table shows the administration's row from the ledger
    month = Month(2024, 2)
    table = economy(config, facts_of(replay, "0138", month.as_of), month, lines)
    overall = next(r for r in table["verksamheter"] if r["id"] == "overgripande")
    assert overall["utfall_ack"] == sum(x.amount_sek for x in lines if x.activity == "100")
    assert table["huvudbok"] and not table["utan_utfall"]


def test_last_years_outcome_by_year_from_the_board_file(tmp_path):
    text = (load_config().source and open(load_config().source, encoding="utf-8").read())
    assert "utfall_foregaende_ar_sek" in text
    path = tmp_path / "board.yaml"
    path.write_text("malomraden: []\nverksamheter:\n  - id: a\n    namn: A\n    kostnader: [placeringar]\n"
                    "    arsbudget_sek: 100\n    utfall_foregaende_ar_sek: {2023: 90, 2024: 95}\n", encoding="utf-8")
    activity = load_config(path).activities[0]
    assert activity.outcome_of(2023) == 90 and activity.outcome_of(2024) == 95 and activity.outcome_of(2022) is None
    replay = Replay()
    month = Month(2025, 3)
    row = economy(load_config(path), facts_of(replay, "0138", month.as_of), month)["verksamheter"][0]
    assert row["foregaende_ar"] == 95 and row["foregaende_ar_fullstandigt"]
