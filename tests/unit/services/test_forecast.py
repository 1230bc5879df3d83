"""The year forecast worked by hand (the tail of the durations), the simulated ledger against the
simulated staff, last year's outcome from the board's file."""
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


def test_the_budget_row_shows_last_months_deviation_as_that_report_did():
    from services.snapshot.publish import indicator_rows

    content = {"manad": "2024-03", "ekonomi": {"resultat": {"avvikelse_procent": 1.53, "farg": "gul"}},
               "diagram": {"kostnad_mot_budget": [{"manad": "2024-01", "avvikelse_procent": -0.4},
                                                  {"manad": "2024-02", "avvikelse_procent": 2.94}]}}
    area = {"typ": "budget", "indikatorer": []}
    assert indicator_rows(content, area, None, 5) == [
        ["Årsprognosens avvikelse mot årsbudget", "budget i balans", "-1,5 %", "-2,9 %", "Gul"]]
    january = {**content, "manad": "2024-01"}
    assert indicator_rows(january, area, None, 5)[0][3] == "–"  # no report before January's


def test_a_long_legend_wraps_within_the_chart():
    import re

    from services.snapshot.charts import bar_chart

    names = ["Skyddsbedömning > 24 timmar", "Förhandsbedömning > 14 dagar", "Barnutredning > 4 månader",
             "Ej verkställt beslut > 3 månader"]
    svg = bar_chart("T", ["Jan", "Feb"], [(n, [3, 40]) for n in names], suppress_below=5, width=900, height=260)
    assert re.search(r"viewBox='0 0 900 (\d+)'", svg).group(1) == "276"  # one more legend line
    for x, text in re.findall(r"<text x='(\d+)' y='\d+' [^>]*font-size='11'>([^<]+)</text>", svg):
        if any(text.startswith(n[:10]) for n in names) or text.startswith("&lt;5"):
            assert int(x) + len(text) * 6.4 <= 900
