"""Table-driven tests of every KPI of CONTRACT.md §4 at its edges."""
from datetime import date

import pytest

from streams.contract.validate import parse_instant
from streams.core.changes import change_instants
from streams.core.kpis import Period, group_by_unit, unit_kpis
from streams.core.replay import Replay
from tests.events import ev, kpis, line, replay

MARCH = Period.month(2024, 3)


def report(at, case="c1", **kw):
    return ev("report.received", at, case=case, reporter="skola", **kw)


# --- reports and the screening / protection clocks -------------------------------------------

@pytest.mark.parametrize("events, as_of, expected", [
    # exactly at the deadline is not overdue; one second later is
    ([report("2024-03-01T10:00:00+01:00")], "2024-03-15T10:00:00+01:00",
     {"reports_awaiting_screening": 1, "reports_screening_overdue": 0, "reports_screening_due_soon": 1}),
    ([report("2024-03-01T10:00:00+01:00")], "2024-03-15T10:00:01+01:00",
     {"reports_awaiting_screening": 1, "reports_screening_overdue": 1, "reports_screening_due_soon": 0}),
    # day 10 is the warning point of the 14-day clock
    ([report("2024-03-01T10:00:00+01:00")], "2024-03-11T10:00:00+01:00",
     {"reports_screening_due_soon": 0}),
    ([report("2024-03-01T10:00:00+01:00")], "2024-03-11T10:00:01+01:00",
     {"reports_screening_due_soon": 1}),
    # DST: 14 calendar days keep the local time, so the deadline is 10:00 CEST, not 11:00
    ([report("2024-03-20T10:00:00+01:00")], "2024-04-03T10:00:00+02:00", {"reports_screening_overdue": 0}),
    ([report("2024-03-20T10:00:00+01:00")], "2024-04-03T10:00:01+02:00", {"reports_screening_overdue": 1}),
    # a screening after as_of has not happened yet
    ([report("2024-03-01T10:00:00+01:00"),
      ev("report.screened", "2024-03-20T10:00:00+01:00", outcome="no_investigation")],
     "2024-03-18T00:00:00+01:00", {"reports_awaiting_screening": 1, "reports_screening_overdue": 1}),
    ([report("2024-03-01T10:00:00+01:00"),
      ev("report.screened", "2024-03-20T10:00:00+01:00", outcome="no_investigation")],
     "2024-03-20T10:00:00+01:00", {"reports_awaiting_screening": 0, "reports_screening_overdue": 0}),
    # a screening covers every report received before it on the case, not later ones
    ([report("2024-03-01T10:00:00+01:00"), report("2024-03-02T10:00:00+01:00"),
      ev("report.screened", "2024-03-05T10:00:00+01:00", outcome="investigation_opened"),
      report("2024-03-06T10:00:00+01:00")],
     "2024-03-07T10:00:00+01:00", {"reports_awaiting_screening": 1, "reports_received": 3}),
])
def test_screening_clock(events, as_of, expected):
    got = kpis(events, as_of)
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize("events, as_of, overdue", [
    ([report("2024-03-01T10:00:00+01:00")], "2024-03-02T10:00:00+01:00", 0),
    ([report("2024-03-01T10:00:00+01:00")], "2024-03-02T10:00:01+01:00", 1),
    # 24 hours are elapsed time: across the spring change the deadline reads 13:00 local
    ([report("2024-03-30T12:00:00+01:00")], "2024-03-31T13:00:00+02:00", 0),
    ([report("2024-03-30T12:00:00+01:00")], "2024-03-31T13:00:01+02:00", 1),
    # either an assessment or a screening stops the clock
    ([report("2024-03-01T10:00:00+01:00"),
      ev("report.protection_assessed", "2024-03-01T11:00:00+01:00", immediate_protection=False)],
     "2024-03-05T10:00:00+01:00", 0),
    ([report("2024-03-01T10:00:00+01:00"),
      ev("report.screened", "2024-03-03T11:00:00+01:00", outcome="no_investigation")],
     "2024-03-05T10:00:00+01:00", 0),
    # an assessment made before the report does not cover it
    ([ev("report.protection_assessed", "2024-02-28T11:00:00+01:00", immediate_protection=False),
      report("2024-03-01T10:00:00+01:00")], "2024-03-05T10:00:00+01:00", 1),
])
def test_protection_assessment_clock(events, as_of, overdue):
    assert kpis(events, as_of)["protection_assessments_overdue"] == overdue


# --- investigations ----------------------------------------------------------------------------

OPEN = lambda at, case="c1": ev("investigation.opened", at, case=case, area="barn_unga")  # noqa: E731
CLOSE = lambda at, case="c1": ev("investigation.closed", at, case=case, outcome="decision")  # noqa: E731


@pytest.mark.parametrize("events, as_of, expected", [
    # Oct 31 + 4 months lands on Feb 29 in a leap year
    ([OPEN("2023-10-31T09:00:00+01:00")], "2024-02-29T09:00:00+01:00",
     {"investigations_open": 1, "investigations_overdue": 0, "investigations_due_soon": 1}),
    ([OPEN("2023-10-31T09:00:00+01:00")], "2024-02-29T09:00:01+01:00",
     {"investigations_open": 1, "investigations_overdue": 1, "investigations_due_soon": 0}),
    # warning from one month before the deadline: Feb 29 - 1 month = Jan 29
    ([OPEN("2023-10-31T09:00:00+01:00")], "2024-01-29T09:00:00+01:00", {"investigations_due_soon": 0}),
    ([OPEN("2023-10-31T09:00:00+01:00")], "2024-01-29T09:00:01+01:00", {"investigations_due_soon": 1}),
    # an extension decided before as_of moves the deadline
    ([OPEN("2024-01-10T09:00:00+01:00"),
      ev("investigation.extended", "2024-05-08T09:00:00+02:00", new_due="2024-07-10T09:00:00+02:00")],
     "2024-05-20T09:00:00+02:00", {"investigations_overdue": 0}),
    # ... but not when it is decided after as_of
    ([OPEN("2024-01-10T09:00:00+01:00"),
      ev("investigation.extended", "2024-05-12T09:00:00+02:00", new_due="2024-07-10T09:00:00+02:00")],
     "2024-05-11T09:00:00+02:00", {"investigations_overdue": 1}),
    ([OPEN("2024-01-10T09:00:00+01:00"),
      ev("investigation.extended", "2024-05-08T09:00:00+02:00", new_due="2024-07-10T09:00:00+02:00")],
     "2024-07-10T09:00:01+02:00", {"investigations_overdue": 1}),
    # the latest extension wins
    ([OPEN("2024-01-10T09:00:00+01:00"),
      ev("investigation.extended", "2024-05-08T09:00:00+02:00", new_due="2024-07-10T09:00:00+02:00"),
      ev("investigation.extended", "2024-07-01T09:00:00+02:00", new_due="2024-08-10T09:00:00+02:00")],
     "2024-07-20T09:00:00+02:00", {"investigations_overdue": 0}),
    # a second "opened" while open is the same investigation; close ends it
    ([OPEN("2024-01-10T09:00:00+01:00"), OPEN("2024-01-12T09:00:00+01:00"), CLOSE("2024-03-05T09:00:00+01:00")],
     "2024-03-20T09:00:00+01:00",
     {"investigations_open": 0, "investigations_closed": 1, "investigation_days_mean": 55.0}),
    # period figures: closed in the period, mean of whole local days
    ([OPEN("2024-01-01T09:00:00+01:00"), CLOSE("2024-03-10T16:00:00+01:00"),
      OPEN("2024-02-01T09:00:00+01:00", case="c2"), CLOSE("2024-03-01T08:00:00+01:00", case="c2"),
      OPEN("2024-01-01T09:00:00+01:00", case="c3"), CLOSE("2024-02-29T23:59:59+01:00", case="c3")],
     "2024-03-31T12:00:00+02:00",
     {"investigations_closed": 2, "investigation_days_mean": (69 + 29) / 2}),
])
def test_investigation_clock(events, as_of, expected):
    got = kpis(events, as_of)
    assert {k: got[k] for k in expected} == expected


# --- decisions -----------------------------------------------------------------------------------

MADE = lambda at, d="d1": ev("decision.made", at, decision_id=d, intervention="familjebehandling")  # noqa: E731


@pytest.mark.parametrize("events, as_of, expected", [
    ([MADE("2024-01-31T10:00:00+01:00")], "2024-04-30T10:00:00+02:00",
     {"decisions_not_enforced": 1, "decisions_reportable": 0, "decisions_due_soon": 1}),
    # Jan 31 + 3 months = Apr 30 (clamped)
    ([MADE("2024-01-31T10:00:00+01:00")], "2024-04-30T10:00:01+02:00",
     {"decisions_not_enforced": 1, "decisions_reportable": 1, "decisions_due_soon": 0}),
    ([MADE("2024-01-31T10:00:00+01:00"), ev("decision.enforced", "2024-02-15T10:00:00+01:00", decision_id="d1")],
     "2024-06-01T10:00:00+02:00", {"decisions_not_enforced": 0, "decisions_reportable": 0}),
    ([MADE("2024-01-31T10:00:00+01:00"), ev("decision.ended", "2024-02-15T10:00:00+01:00", decision_id="d1")],
     "2024-06-01T10:00:00+02:00", {"decisions_not_enforced": 0}),
    # enforcement of another decision changes nothing
    ([MADE("2024-01-31T10:00:00+01:00"), ev("decision.enforced", "2024-02-15T10:00:00+01:00", decision_id="d2")],
     "2024-06-01T10:00:00+02:00", {"decisions_not_enforced": 1, "decisions_reportable": 1}),
    # enforced after as_of: still waiting at as_of
    ([MADE("2024-01-31T10:00:00+01:00"), ev("decision.enforced", "2024-06-15T10:00:00+02:00", decision_id="d1")],
     "2024-06-01T10:00:00+02:00", {"decisions_not_enforced": 1, "decisions_reportable": 1}),
])
def test_decisions_reportable_to_ivo(events, as_of, expected):
    got = kpis(events, as_of)
    assert {k: got[k] for k in expected} == expected


# --- placements ----------------------------------------------------------------------------------

def test_placement_days_and_cost_follow_cost_changes_by_date():
    events = [
        ev("placement.started", "2024-02-20T15:00:00+01:00", placement_id="p1", placement_type="hvb", daily_cost_sek=1000),
        ev("placement.cost_changed", "2024-03-10T08:00:00+01:00", placement_id="p1", daily_cost_sek=2000),
        ev("placement.ended", "2024-03-20T11:00:00+01:00", placement_id="p1"),
        ev("placement.started", "2024-03-25T10:00:00+01:00", case="c2", placement_id="p2",
           placement_type="familjehem", daily_cost_sek=800.5),
    ]
    got = kpis(events, "2024-03-31T12:00:00+02:00", MARCH)
    # hvb: Mar 1..19 (the end date is exclusive): 9 days at 1000, then 10 days at 2000
    assert got["placement_days"] == {"familjehem": 7, "hvb": 19}
    assert got["placement_cost_sek"] == {"familjehem": 7 * 800.5, "hvb": 9 * 1000 + 10 * 2000}
    assert got["placements_mean"] == {"familjehem": 7 / 31, "hvb": 19 / 31}
    assert got["placements_active"] == {"familjehem": 1}


def test_open_placement_counts_to_the_end_of_an_explicit_period():
    events = [ev("placement.started", "2024-03-30T10:00:00+01:00", placement_id="p1", placement_type="sis",
                 daily_cost_sek=6000)]
    got = kpis(events, "2024-03-31T12:00:00+02:00", Period.of_dates(date(2024, 3, 1), date(2024, 4, 3)))
    assert got["placement_days"] == {"sis": 4}  # Mar 30, 31, Apr 1, 2
    assert got["placement_cost_sek"] == {"sis": 24000}


def test_placements_started_after_as_of_do_not_count():
    events = [ev("placement.started", "2024-03-30T10:00:00+01:00", placement_id="p1", placement_type="sis",
                 daily_cost_sek=6000)]
    got = replay(events, "2024-03-29T10:00:00+01:00")
    assert got["units"] == {}


# --- staff ---------------------------------------------------------------------------------------

def joined(staff, at, role="socialsekreterare", employment="permanent", **kw):
    return ev("staff.joined", at, case=staff, staff_id=staff, role=role, employment=employment, **kw)


def test_staffing_share_caseload_and_consultant_cost():
    events = [
        joined("s1", "2024-01-01T08:00:00+01:00"),
        joined("s2", "2024-01-01T08:00:00+01:00", fte=0.5),
        joined("s3", "2024-03-11T08:00:00+01:00", employment="consultant", daily_cost_sek=7500),
        joined("s4", "2024-01-01T08:00:00+01:00", role="arbetsledare"),
        ev("staff.left", "2024-03-21T17:00:00+01:00", case="s3", staff_id="s3"),
        OPEN("2024-02-01T09:00:00+01:00", case="c1"), OPEN("2024-02-01T09:00:00+01:00", case="c2"),
        OPEN("2024-02-01T09:00:00+01:00", case="c3"),
    ]
    during = kpis(events, "2024-03-15T12:00:00+01:00")
    assert during["staff_active"] == {"consultant": 1.0, "permanent": 2.5}
    assert during["consultant_share"] == 1.0 / 3.5
    assert during["caseload_per_social_worker"] == 3 / 2.5
    assert during["consultant_cost_sek"] == 5 * 7500  # Mar 11..15 in the month-to-date period
    after = kpis(events, "2024-03-31T12:00:00+02:00")
    assert after["staff_active"] == {"permanent": 2.5}
    assert after["consultant_share"] == 0.0
    assert after["consultant_cost_sek"] == 10 * 7500  # [Mar 11, Mar 21)


def test_caseload_is_null_without_social_workers_and_share_zero_without_staff():
    got = kpis([OPEN("2024-02-01T09:00:00+01:00")], "2024-03-15T12:00:00+01:00")
    assert got["caseload_per_social_worker"] is None
    assert got["consultant_share"] == 0.0
    assert got["staff_active"] == {}


# --- economic assistance ---------------------------------------------------------------------------

def test_application_wait_and_payments_in_the_period():
    events = [
        ev("application.received", "2024-02-25T10:00:00+01:00", case="e1"),
        ev("application.decided", "2024-03-06T10:00:00+01:00", case="e1", granted=True),
        ev("application.received", "2024-03-01T10:00:00+01:00", case="e2"),
        ev("application.received", "2024-03-03T10:00:00+01:00", case="e2"),  # repeat while pending
        ev("application.decided", "2024-03-05T10:00:00+01:00", case="e2", granted=False),
        ev("application.received", "2024-01-01T10:00:00+01:00", case="e3"),
        ev("application.decided", "2024-02-01T10:00:00+01:00", case="e3", granted=True),  # not in March
        ev("payment.made", "2024-03-10T10:00:00+01:00", case="e1", amount_sek=8000.5),
        ev("payment.made", "2024-02-29T23:59:59+01:00", case="e1", amount_sek=5000),
        ev("payment.made", "2024-04-01T00:00:00+02:00", case="e1", amount_sek=7000),
    ]
    got = kpis(events, "2024-04-10T00:00:00+02:00", MARCH)
    assert got["application_wait_days_mean"] == (10 + 4) / 2
    assert got["payments_sek"] == 8000.5


# --- periods ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("at, counted", [
    ("2024-02-29T23:59:59+01:00", 0),
    ("2024-03-01T00:00:00+01:00", 1),
    ("2024-03-31T23:59:59+02:00", 1),
    ("2024-03-31T22:00:00Z", 0),  # = April 1 00:00 in Stockholm
    ("2024-04-01T00:00:00+02:00", 0),
])
def test_period_edges_are_local_days(at, counted):
    events = [report(at, case="edge"), report("2024-03-15T12:00:00+01:00", case="anchor")]
    got = kpis(events, "2024-04-02T00:00:00+02:00", MARCH)
    assert got["reports_received"] == 1 + counted


def test_default_period_is_month_to_date_and_as_of_defaults_to_the_latest_event():
    out = replay([report("2024-03-01T10:00:00+01:00"), report("2024-03-15T12:30:00+01:00", case="c2")])
    assert out["as_of"] == "2024-03-15T12:30:00+01:00"
    assert out["period"] == {"from": "2024-03-01", "to": "2024-03-16"}
    assert out["units"]["0138"]["bou-1"]["reports_received"] == 2


def test_events_after_as_of_count_nowhere_even_in_the_period():
    events = [report("2024-03-01T10:00:00+01:00"), report("2024-03-20T10:00:00+01:00", case="c2")]
    got = kpis(events, "2024-03-10T00:00:00+01:00", MARCH)
    assert got["reports_received"] == 1


def test_units_and_municipalities_are_kept_apart():
    out = replay([report("2024-03-01T10:00:00+01:00"), report("2024-03-01T10:00:00+01:00", unit="bou-2"),
                  report("2024-03-01T10:00:00+01:00", mun="0180", case="c9")])
    assert set(out["units"]) == {"0138", "0180"}
    assert set(out["units"]["0138"]) == {"bou-1", "bou-2"}


def test_duplicates_change_nothing_and_are_counted():
    event = report("2024-03-01T10:00:00+01:00")
    out = replay([event, event, dict(event)])
    assert out["events"] == {"accepted": 1, "duplicates": 2, "rejected": 0, "rejected_by_reason": {}}
    assert out["units"]["0138"]["bou-1"]["reports_received"] == 1


def test_inflow_baseline_is_the_weekly_mean_of_the_twelve_weeks_before_the_last_seven_days():
    events = [report("2024-03-28T10:00:00+01:00", case=f"n{i}") for i in range(6)]
    events += [report(f"2024-02-{d:02d}T10:00:00+01:00", case=f"b{d}") for d in range(1, 25)]
    got = kpis(events, "2024-03-30T10:00:00+01:00")
    assert got["reports_received_last_7d"] == 6
    assert got["reports_received_weekly_mean_12w"] == 24 / 12


def test_a_cost_change_during_the_day_is_a_change_instant_of_the_month_to_date_cost():
    events = [
        ev("placement.started", "2024-03-01T15:00:00+01:00", placement_id="p1", placement_type="hvb", daily_cost_sek=1000),
        ev("placement.cost_changed", "2024-03-10T12:00:00+01:00", placement_id="p1", daily_cost_sek=2000),
    ]
    r = Replay()
    r.add_lines(line(e) for e in events)
    (items,) = group_by_unit(r.facts()).values()
    before, at = parse_instant("2024-03-10T11:00:00+01:00"), parse_instant("2024-03-10T12:00:00+01:00")
    period = Period.month_to_date(before)
    assert at in change_instants(items)
    assert [x for x in change_instants(items) if x >= before][0] == at  # nothing else changes before it
    assert unit_kpis(items, before, period)["placement_cost_sek"] == {"hvb": 10 * 1000}
    assert unit_kpis(items, at, period)["placement_cost_sek"] == {"hvb": 9 * 1000 + 2000}


def test_the_kpi_module_exports_what_it_names_period_included():
    """``from streams.core.kpis import *`` gives every name of its ``__all__``, and Period (kept
    in period.py) is still importable from here, as the replays, the exporter and the board read it."""
    import streams.core.kpis as kpis_module
    from streams.core.period import Period as PeriodItself

    namespace: dict = {}
    exec("from streams.core.kpis import *", namespace)
    assert set(kpis_module.__all__) <= set(namespace)
    assert namespace["Period"] is PeriodItself is kpis_module.Period
