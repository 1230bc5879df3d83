"""The year forecast worked by hand (the tail of the durations, Kaplan–Meier on a known law, LVM's
six months, durations per activity, consultants at their level), the backtest's two measures,
the simulated ledger against the simulated staff, last year's outcome from the board's file."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from math import exp, isclose
from random import Random

from services.simulator import SimulationSpec
from services.simulator.generate import simulate_chunks
from services.simulator.ledger import SALARY_2024, PERSONNEL_OVERHEAD, write_ledger
from services.snapshot.config import Activity, BoardConfig, load_config
from services.snapshot.economy import economy
from services.snapshot.figures import Month, facts_of, load_replay
from services.snapshot.backtest import backtest
from services.snapshot.forecast import History, Spell, Survival
from services.snapshot.ledger import LedgerLine, read_ledger
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


def _placement_events(case: str, unit: str, kind: str, start: date, days: int | None, cost: int, **extra) -> list:
    out = [ev("placement.started", f"{start.isoformat()}T09:00:00+01:00", case=case, unit=unit,
              placement_id=case, placement_type=kind, daily_cost_sek=cost, **extra)]
    if days is not None:
        end = start + timedelta(days=days)
        out.append(ev("placement.ended", f"{end.isoformat()}T09:00:00+01:00", case=case, unit=unit,
                      placement_id=case))
    return out


def _parts(events: list, config: BoardConfig, month: Month) -> dict:
    replay = Replay()
    replay.add_lines(line(e) for e in events)
    table = economy(config, facts_of(replay, "0138", month.as_of), month)
    return {r["id"]: r["prognos_delar"] for r in table["verksamheter"]}


TWO_ACTIVITIES = BoardConfig(board="Nämnd", administration="", goal_areas=(), activities=(
    Activity("barn_unga", "Barn- och ungdomsvård", ("bou-*",), ("placeringar", "konsulter"), 1_000_000.0),
    Activity("vuxna", "Vård och vuxna", ("vuxen-*",), ("placeringar", "konsulter"), 1_000_000.0)))


def test_kaplan_meier_recovers_a_known_law_from_censored_spells():
    # 3 000 exponential stays of mean 100 days, each observed only up to a uniform censoring age:
    # the estimate follows exp(-t / 100) where enough are at risk, and the expected days left
    # of a running one are (almost) memoryless, whatever its age
    rng = Random(5)
    spells = []
    for _ in range(3000):
        length, seen = int(rng.expovariate(1 / 100)), rng.randint(1, 400)
        spells.append(Spell(min(length, seen), length <= seen))
    s = Survival(spells)
    for t in (10, 50, 100, 150):
        assert abs(s(t) - exp(-(t + 1) / 100)) < 0.03, t
    expected = sum(exp(-k / 100) for k in range(1, 61))  # days charged in 60 days of an exponential stay
    assert abs(s.days_left(0, 60) - expected) / expected < 0.03
    assert abs(s.days_left(100, 60) - expected) / expected < 0.06


def test_lvm_care_is_never_expected_past_six_months():
    # LVM 20 §: one placed under LVM on 15 May ends by 15 November at the latest, although
    # nothing has ever ended (so an SoL placement of the same type runs on to 31 December)
    events = (_placement_events("lvm", "vuxen-1", "hvb", date(2024, 5, 15), None, 3000, legal_basis="lvm")
              + _placement_events("sol", "vuxen-2", "hvb", date(2024, 5, 15), None, 1000))
    parts = _parts(events, TWO_ACTIVITIES, Month(2024, 9))
    last = date(2024, 11, 15).toordinal() - date(2024, 10, 1).toordinal()
    assert parts["vuxna"]["pagaende_placeringar"] == 3000 * last + 1000 * 92


def test_durations_are_kept_per_activity_with_the_types_over_all_as_fallback():
    # children's HVB stays end after 200 days, adults' after 20: each group's own constant rate
    # (too few for Kaplan-Meier steps), not the mixture; a group with too few endings of its
    # own (stödboende: 2 adults') borrows the type's durations over both groups
    events = []
    for i in range(6):
        events += _placement_events(f"b{i}", "bou-1", "hvb", date(2023, 1, 10) + timedelta(days=30 * i), 200, 4000)
        events += _placement_events(f"v{i}", "vuxen-1", "hvb", date(2024, 1, 10) + timedelta(days=30 * i), 20, 4000)
        events += _placement_events(f"s{i}", "bou-1", "stodboende", date(2023, 2, 1) + timedelta(days=20 * i), 300, 1500)
    events += _placement_events("s-old", "vuxen-1", "stodboende", date(2023, 3, 1), 10, 1500)
    events += _placement_events("s-old2", "vuxen-1", "stodboende", date(2023, 4, 1), 10, 1500)
    events += _placement_events("child", "bou-1", "hvb", date(2024, 9, 1), None, 1000)
    events += _placement_events("adult", "vuxen-1", "hvb", date(2024, 9, 1), None, 1000)
    events += _placement_events("s-now", "vuxen-1", "stodboende", date(2024, 9, 1), None, 1000)
    replay = Replay()
    replay.add_lines(line(e) for e in events)
    month = Month(2024, 9)
    facts = facts_of(replay, "0138", month.as_of)
    group_of = lambda unit: "barn_unga" if unit.startswith("bou") else "vuxna"  # noqa: E731
    history = History.of(facts, month.as_of, None, group_of)
    age = date(2024, 10, 1).toordinal() - date(2024, 9, 1).toordinal()
    child_rate, adult_rate = 6 / (6 * 200 + age), 6 / (6 * 20 + age)  # endings / days observed
    assert isclose(history.placement_survival("hvb", "barn_unga").days_left(age, 92),
                   sum(exp(-child_rate * k) for k in range(1, 93)))
    assert isclose(history.placement_survival("hvb", "vuxna").days_left(age, 92),
                   sum(exp(-adult_rate * k) for k in range(1, 93)))
    borrowed = history.placement_survival("stodboende", "vuxna")
    assert borrowed.ended == 8 and borrowed(100) > 0.5  # both groups' eight endings, mostly after 300 days


def test_consultants_are_forecast_at_their_level_of_the_last_year():
    # one post filled by a chain of contracts: 1 Oct 2023 - 30 Apr 2024 at 6 000 kr, a month
    # empty, then from 1 Jun at 8 000 kr; at the end of September the level of the last twelve
    # months goes on for October - December, gaps between contracts included
    events = [ev("staff.joined", "2023-10-01T08:00:00+02:00", case="k1", staff_id="k1", role="socialsekreterare",
                 employment="consultant", fte=1, daily_cost_sek=6000),
              ev("staff.left", "2024-05-01T08:00:00+02:00", case="k1", staff_id="k1"),
              ev("staff.joined", "2024-06-01T08:00:00+02:00", case="k2", staff_id="k2", role="socialsekreterare",
                 employment="consultant", fte=1, daily_cost_sek=8000)]
    parts = _parts(events, TWO_ACTIVITIES, Month(2024, 9))["barn_unga"]
    window = date(2024, 10, 1).toordinal() - date(2023, 10, 1).toordinal()
    days_6000 = date(2024, 5, 1).toordinal() - date(2023, 10, 1).toordinal()
    days_8000 = date(2024, 10, 1).toordinal() - date(2024, 6, 1).toordinal()
    assert isclose(parts["pagaende_konsulter"], (6000 * days_6000 + 8000 * days_8000) / window * 92)
    assert parts["starter_konsulter"] == 2


def test_backtest_compares_the_net_cost_and_the_event_borne_part(tmp_path):
    # a placement of 1 000 kr/day all year and the ledger's 100 000 kr a month: the net cost is
    # both, the event-borne part only the placement
    events = _placement_events("p", "bou-1", "familjehem", date(2022, 6, 1), None, 1000)  # no start in any window
    replay = Replay()
    replay.add_lines(line(e) for e in events)
    ledger = [LedgerLine(date(2024, m, 25), "200", 100_000.0) for m in range(1, 13)]
    config = BoardConfig(board="Nämnd", administration="", goal_areas=(), activities=(
        Activity("barn_unga", "Barn- och ungdomsvård", ("bou-*",), ("placeringar", "huvudbok"), 2_000_000.0,
                 ledger_codes=("200",)),))
    rows = backtest(replay, "0138", 2024, config, ledger)
    assert len(rows) == 11
    assert rows[0].actual_sek == 366 * 1000 + 1_200_000 and rows[0].events_actual_sek == 366 * 1000
    # nothing ever ended: the placement runs on; the ledger at its monthly mean: both exact
    for r in rows:
        assert isclose(r.error_pct, 0, abs_tol=1e-9) and isclose(r.events_error_pct, 0, abs_tol=1e-9)
    # per activity: the one activity's forecast and outcome, the same as the totals
    assert set(rows[3].by_activity) == {"barn_unga"}
    assert all(r.by_activity["barn_unga"] == (r.forecast_sek, r.actual_sek) for r in rows)
    without = backtest(replay, "0138", 2024, config)  # no ledger: the event-borne part alone
    assert without[0].actual_sek == without[0].events_actual_sek == 366 * 1000
