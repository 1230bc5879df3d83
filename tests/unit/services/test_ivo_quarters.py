"""The IVO quarterly report (CONTRACT.md §6) on hand-worked quarters of 2024.

Every expected date and day count below is worked out by hand in the comment beside it.
"""
from __future__ import annotations

from datetime import date

import pytest

from streams.core.ivo import Quarter, wait_band
from streams.core.replay import Replay
from services.ivo.quarter import report_from_replay
from tests.events import ev, line

M = "decision.made"
EVENTS = [
    # A: made 15 Jan, limit 15 Apr; enforced 20 May, after its limit inside Q2.
    # 15 Jan -> 20 May = 16 + 29 + 31 + 30 + 20 = 126 days.
    ev(M, "2024-01-15T10:00:00+01:00", case="a", decision_id="da", intervention="kontaktperson", sex="man"),
    ev("decision.enforced", "2024-05-20T10:00:00+02:00", case="a", decision_id="da"),
    # B: made 1 Feb, limit 1 May; a delay reason on 20 Apr; ended without enforcement 10 Jun.
    # 1 Feb -> 10 Jun = 28 + 31 + 30 + 31 + 10 = 130 days.
    ev(M, "2024-02-01T09:00:00+01:00", case="b", decision_id="db", intervention="familjebehandling", sex="kvinna"),
    ev("decision.delay_reason", "2024-04-20T09:00:00+02:00", case="b", decision_id="db",
       reason="tackat_nej_till_erbjudande"),
    ev("decision.ended", "2024-06-10T09:00:00+02:00", case="b", decision_id="db", reason="annan"),
    # C: made 5 Mar, limit 5 Jun: new in Q2 and open (5 Mar -> 30 Jun = 26 + 30 + 31 + 30 = 117);
    # moved to bou-2 on 15 Jul, enforced 12 Aug: a Q3 follow-up in bou-2 with status and date
    # (5 Mar -> 12 Aug = 117 + 31 + 12 = 160).
    ev(M, "2024-03-05T10:00:00+01:00", case="c", decision_id="dc", intervention="placement", sex="kvinna"),
    ev("case.transferred", "2024-07-15T10:00:00+02:00", case="c", to_unit="bou-2"),
    ev("decision.enforced", "2024-08-12T10:00:00+02:00", case="c", unit="bou-2", decision_id="dc"),
    # D: made 20 Nov 2023, limit 20 Feb: new in Q1 (20 Nov -> 31 Mar = 10 + 31 + 31 + 29 + 31 = 132),
    # follow-up in Q2 (+ 30 + 31 + 30 = 223) and Q3 (+ 31 + 31 + 30 = 315): open over three quarters.
    ev(M, "2023-11-20T10:00:00+01:00", case="d", decision_id="dd", intervention="stodboende", sex="man"),
    # E: enforced in time; an interruption of 10 Jan resumed 1 Mar (before 3 months: never listed);
    # one of 2 Apr resumed 1 Aug, its limit 2 Jul: new in Q3 (2 Apr -> 1 Aug = 29 + 31 + 30 + 31 + 1 = 121).
    ev(M, "2023-10-01T10:00:00+02:00", case="e", decision_id="de", intervention="kontaktfamilj", sex="kvinna"),
    ev("decision.enforced", "2023-10-15T10:00:00+02:00", case="e", decision_id="de"),
    ev("decision.interrupted", "2024-01-10T10:00:00+01:00", case="e", decision_id="de"),
    ev("decision.resumed", "2024-03-01T10:00:00+01:00", case="e", decision_id="de"),
    ev("decision.interrupted", "2024-04-02T10:00:00+02:00", case="e", decision_id="de"),
    ev("decision.delay_reason", "2024-05-02T10:00:00+02:00", case="e", decision_id="de", reason="ingen_resurs"),
    ev("decision.resumed", "2024-08-01T10:00:00+02:00", case="e", decision_id="de"),
    # F: an LVU decision never enforced: never listed (not bistånd).
    ev(M, "2024-01-05T10:00:00+01:00", case="f", decision_id="df", intervention="placement", legal_basis="lvu"),
    # G: made at the last microsecond of 2023: its limit is exactly Q1's end E: new in Q1 (91 days).
    ev(M, "2023-12-31T23:59:59.999999+01:00", case="g", decision_id="dg", intervention="annan"),
    # H: made at the first instant of 2024: its limit (1 Apr 00:00) is after Q1's end: new in Q2 only.
    ev(M, "2024-01-01T00:00:00+01:00", case="h", decision_id="dh", intervention="familjebehandling", sex="man"),
    # I: enforced exactly at its limit: in time, never listed.
    ev(M, "2024-01-02T10:00:00+01:00", case="i", decision_id="di", intervention="kontaktperson"),
    ev("decision.enforced", "2024-04-02T10:00:00+02:00", case="i", decision_id="di"),
]


def _report(quarter: str, events=EVENTS, municipality=None) -> dict:
    replay = Replay()
    replay.add_lines(line(e) for e in events)
    return report_from_replay(replay, Quarter.parse(quarter), municipality).as_json()


def _by_id(lines: list[dict]) -> dict[str, tuple]:
    return {d["decision_id"]: (d["unit"], d["kind"], d["status"], d["status_date"], d["days_waited"]) for d in lines}


def test_q1_new_decisions_and_the_limit_exactly_at_the_quarter_end():
    r = _report("2024-Q1")
    assert r["end"] == "2024-03-31T23:59:59.999999+02:00"
    assert _by_id(r["decisions"]) == {
        "dd": ("bou-1", "new", "ej_verkstallt", None, 132),
        "dg": ("bou-1", "new", "ej_verkstallt", None, 91),
    }
    g = next(d for d in r["decisions"] if d["decision_id"] == "dg")
    assert (g["decided"], g["limit"], g["sex"]) == ("2023-12-31", "2024-03-31", None)
    assert r["interruptions"] == []  # E's first interruption was resumed within 3 months


def test_q2_enforced_and_ended_after_the_limit_and_follow_ups():
    r = _report("2024-Q2")
    assert _by_id(r["decisions"]) == {
        "da": ("bou-1", "new", "verkstallt", "2024-05-20", 126),
        "db": ("bou-1", "new", "avslutat", "2024-06-10", 130),
        "dc": ("bou-1", "new", "ej_verkstallt", None, 117),
        "dd": ("bou-1", "follow_up", "ej_verkstallt", None, 223),
        "dg": ("bou-1", "follow_up", "ej_verkstallt", None, 182),
        "dh": ("bou-1", "new", "ej_verkstallt", None, 181),  # 1 Jan -> 30 Jun
    }
    b = next(d for d in r["decisions"] if d["decision_id"] == "db")
    assert (b["decided"], b["limit"], b["delay_reason"], b["sex"]) == ("2024-02-01", "2024-05-01",
                                                                    "tackat_nej_till_erbjudande", "kvinna")
    assert r["interruptions"] == []  # the 2 Apr interruption reaches its limit in Q3
    # Only what is still waiting at E counts, by intervention and sex; every intervention shown.
    assert r["statistics"]["placement"] == {"kvinna": 1, "man": 0, "okänt": 0}
    assert r["statistics"]["stodboende"] == {"kvinna": 0, "man": 1, "okänt": 0}
    assert r["statistics"]["annan"] == {"kvinna": 0, "man": 0, "okänt": 1}
    assert r["statistics"]["familjebehandling"] == {"kvinna": 0, "man": 1, "okänt": 0}
    assert r["statistics"]["kontaktperson"] == {"kvinna": 0, "man": 0, "okänt": 0}
    assert sum(sum(row.values()) for row in r["statistics"].values()) == 4


def test_q3_follow_up_in_the_new_unit_and_the_listed_interruption():
    r = _report("2024-Q3")
    assert _by_id(r["decisions"]) == {
        "dc": ("bou-2", "follow_up", "verkstallt", "2024-08-12", 160),
        "dd": ("bou-1", "follow_up", "ej_verkstallt", None, 315),
        "dg": ("bou-1", "follow_up", "ej_verkstallt", None, 274),  # 31 Dec -> 30 Sep
        "dh": ("bou-1", "follow_up", "ej_verkstallt", None, 273),
    }
    assert _by_id(r["interruptions"]) == {"de": ("bou-1", "new", "verkstallt", "2024-08-01", 121)}
    e = r["interruptions"][0]
    assert (e["interrupted"], e["limit"], e["delay_reason"], e["intervention"]) == (
        "2024-04-02", "2024-07-02", "ingen_resurs", "kontaktfamilj")
    assert "decided" not in e


def test_q4_follows_up_until_enforced_and_never_lists_lvu():
    r = _report("2024-Q4")
    assert set(_by_id(r["decisions"])) == {"dd", "dg", "dh"}  # C was enforced in Q3: its last follow-up
    for q in ("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"):
        listed = {d["decision_id"] for d in _report(q)["decisions"] + _report(q)["interruptions"]}
        assert "df" not in listed and "di" not in listed


def test_a_late_enforcement_changes_a_past_quarter_as_if_at_its_end():
    late = EVENTS + [ev("decision.enforced", "2024-06-30T23:59:59.999999+02:00", case="h", decision_id="dh")]
    q2 = _by_id(_report("2024-Q2", late)["decisions"])
    assert q2["dh"] == ("bou-1", "new", "verkstallt", "2024-06-30", 181)
    assert "dh" not in _by_id(_report("2024-Q3", late)["decisions"])  # enforced by Q2's end: no follow-up


def test_municipality_filter_and_order_independence():
    other = [ev(M, "2024-01-15T10:00:00+01:00", mun="0180", case="x", decision_id="dx", intervention="annan")]
    both = _report("2024-Q2", list(reversed(EVENTS)) + other)
    assert {d["municipality"] for d in both["decisions"]} == {"0138", "0180"}
    assert _report("2024-Q2", EVENTS + other, "0138") == _report("2024-Q2")


@pytest.mark.parametrize("started, end, band", [
    (date(2024, 1, 10), date(2024, 7, 10), "3-6"),     # exactly 6 months
    (date(2024, 1, 10), date(2024, 7, 11), "7-12"),
    (date(2023, 9, 30), date(2024, 9, 30), "7-12"),    # exactly 12 months
    (date(2023, 9, 30), date(2024, 10, 1), "over_12"),
])
def test_wait_bands(started, end, band):
    assert wait_band(started, end) == band


def test_quarter_parsing():
    assert str(Quarter.parse("2024-q4").next()) == "2025-Q1" and str(Quarter.parse("2024-Q1").previous()) == "2023-Q4"
    assert Quarter.parse("2024-Q4").end.isoformat() == "2024-12-31T23:59:59.999999+01:00"
    for bad in ("2024-Q5", "2024Q1", "Q1-2024"):
        with pytest.raises(ValueError):
            Quarter.parse(bad)


def test_due_this_quarter_counts_what_the_unit_can_still_act_on():
    from streams.contract.validate import parse_instant
    from streams.core.facts import fold_case
    from streams.core.ivo import due_this_quarter
    from streams.core.kpis import group_by_unit

    replay = Replay()
    replay.add_lines(line(e) for e in EVENTS)

    def due(at: str, unit: str = "bou-1") -> dict:
        as_of = parse_instant(at)
        facts = [fold_case(mun, records.values(), as_of) for (mun, _c), records in replay.cases.items()]
        return due_this_quarter(group_by_unit(facts)[("0138", unit)].decisions, as_of)

    # 1 May: only C (limit 5 Jun) is still ahead of its limit inside Q2; H, A, B, D, G are past it,
    # E's interruption (limit 2 Jul) falls in Q3, F is LVU.
    assert due("2024-05-01T12:00:00+02:00") == {"decision": 1, "interruption": 0}
    # 1 Jul: E's interruption reaches its limit on 2 Jul; C is past its limit (and leaves on 15 Jul).
    assert due("2024-07-01T12:00:00+02:00") == {"decision": 0, "interruption": 1}
    assert due("2024-07-02T12:00:00+02:00") == {"decision": 0, "interruption": 0}  # now reportable
