"""Table-driven tests of contract v2 (CONTRACT.md §3, §3a, §4): the law's clocks, transfers
between units and the compliance counts. Expected figures are worked out by hand in comments."""
import orjson
import pytest

from streams.contract.validate import Event, Rejection, parse_instant, validate_line
from streams.core.facts import facts_from_json, facts_to_json, fold_case
from streams.core.kpis import KPI_KEYS, Period
from streams.core.replay import Replay
from tests.events import ev, kpis, line, replay

MARCH = "2024-03-20T12:00:00+01:00"  # month to date: 1-20 March


def units(events, as_of, period=None):
    return replay(events, as_of, period)["units"]["0138"]


def pick(figures: dict, expected: dict) -> dict:
    return {k: figures[k] for k in expected}


def report(at, unit="bou-1", case="c1"):
    return ev("report.received", at, case=case, unit=unit, reporter="skola")


def screened(at, unit="bou-1", case="c1", outcome="investigation_opened"):
    return ev("report.screened", at, case=case, unit=unit, outcome=outcome)


def transfer(at, to_unit, unit="bou-1", case="c1"):
    return ev("case.transferred", at, case=case, unit=unit, to_unit=to_unit)


# --- §3a: which unit a figure belongs to -------------------------------------------------------

# A report received 4 March and screened 8 March; the case moves to bou-2 before, between or after.
@pytest.mark.parametrize("moved_at, as_of, bou1, bou2", [
    # before both: the report and its screening count in bou-2, though the report names bou-1
    ("2024-03-02T10:00:00+01:00", MARCH,
     {"reports_received": 0, "screenings_done": 0, "transfers_out": 1},
     {"reports_received": 1, "screenings_done": 1, "screenings_done_within_limit": 1, "transfers_in": 1}),
    # between: received in bou-1, screened in bou-2
    ("2024-03-06T10:00:00+01:00", MARCH,
     {"reports_received": 1, "screenings_done": 0, "protection_assessments_done": 0},
     {"reports_received": 0, "screenings_done": 1, "protection_assessments_done": 1,
      "protection_assessments_done_within_limit": 0}),
    # between, read before the screening: the backlog is bou-2's now
    ("2024-03-06T10:00:00+01:00", "2024-03-07T10:00:00+01:00",
     {"reports_awaiting_screening": 0, "protection_assessments_overdue": 0, "reports_received": 1},
     {"reports_awaiting_screening": 1, "protection_assessments_overdue": 1, "reports_received": 0}),
    # after both: everything stays in bou-1; bou-2 is listed with the transfer only
    ("2024-03-10T10:00:00+01:00", MARCH,
     {"reports_received": 1, "screenings_done": 1, "transfers_out": 1, "transfers_in": 0},
     {"reports_received": 0, "screenings_done": 0, "transfers_in": 1, "transfers_out": 0}),
])
def test_a_transfer_before_between_and_after_an_items_events(moved_at, as_of, bou1, bou2):
    got = units([report("2024-03-04T10:00:00+01:00"), screened("2024-03-08T10:00:00+01:00"),
                 transfer(moved_at, "bou-2")], as_of)
    assert pick(got["bou-1"], bou1) == bou1
    assert pick(got["bou-2"], bou2) == bou2


@pytest.mark.parametrize("as_of, open_in_bou1, open_in_bou2", [
    ("2024-03-05T10:00:00+01:00", 1, 0),  # before the move
    ("2024-03-10T10:00:00+01:00", 0, 1),  # moved to bou-2
    ("2024-03-15T10:00:00+01:00", 1, 0),  # and back
])
def test_a_transfer_back(as_of, open_in_bou1, open_in_bou2):
    events = [ev("investigation.opened", "2024-03-01T10:00:00+01:00", area="barn_unga"),
              transfer("2024-03-08T10:00:00+01:00", "bou-2"),
              transfer("2024-03-12T10:00:00+01:00", "bou-1", unit="bou-2")]
    got = units(events, as_of)
    assert got["bou-1"]["investigations_open"] == open_in_bou1
    if as_of < "2024-03-08":
        assert "bou-2" not in got  # no event names it yet
    else:
        assert got["bou-2"]["investigations_open"] == open_in_bou2
    if as_of > "2024-03-15":
        assert pick(got["bou-1"], {"transfers_in": 1, "transfers_out": 1}) == {"transfers_in": 1, "transfers_out": 1}
        assert pick(got["bou-2"], {"transfers_in": 1, "transfers_out": 1}) == {"transfers_in": 1, "transfers_out": 1}


PLACEMENT = [
    ev("placement.started", "2024-03-01T12:00:00+01:00", placement_id="p1", placement_type="hvb", daily_cost_sek=1000),
    ev("placement.cost_changed", "2024-03-11T09:00:00+01:00", placement_id="p1", daily_cost_sek=2000),
    transfer("2024-03-11T15:00:00+01:00", "bou-2"),
]


@pytest.mark.parametrize("as_of, bou1, bou2", [
    # 1-10 March in bou-1 at 1 000; from 11 March (the transfer's date, the new cost's date) bou-2 at 2 000
    (MARCH, {"placement_days": {"hvb": 10}, "placement_cost_sek": {"hvb": 10_000}, "placements_active": {}},
     {"placement_days": {"hvb": 10}, "placement_cost_sek": {"hvb": 20_000}, "placements_active": {"hvb": 1}}),
    # read between the cost change and the transfer: the transfer has not happened, all 11 days are bou-1's
    ("2024-03-11T12:00:00+01:00",
     {"placement_days": {"hvb": 11}, "placement_cost_sek": {"hvb": 12_000}, "placements_active": {"hvb": 1}},
     None),
])
def test_a_placement_whose_transfer_and_cost_change_fall_on_the_same_day(as_of, bou1, bou2):
    got = units(PLACEMENT, as_of)
    assert pick(got["bou-1"], bou1) == bou1
    if bou2 is None:
        assert "bou-2" not in got  # not yet named by any event at as_of
    else:
        assert pick(got["bou-2"], bou2) == bou2
        assert got["bou-2"]["placements_mean"] == {"hvb": 10 / 20}


def test_a_transfer_arriving_before_the_events_it_moves():
    """Arrival order is irrelevant, and events after the transfer count in the new unit even when
    their source still names the old one."""
    events = [transfer("2024-03-02T10:00:00+01:00", "bou-2"),
              report("2024-03-04T10:00:00+01:00"),
              ev("investigation.opened", "2024-03-05T10:00:00+01:00", area="barn_unga"),
              ev("decision.made", "2024-03-06T10:00:00+01:00", decision_id="d1", intervention="kontaktperson")]
    first = units(events, MARCH)
    assert units(list(reversed(events)), MARCH) == first
    assert pick(first["bou-2"], {"reports_received": 1, "investigations_open": 1, "decisions_not_enforced": 1}) \
        == {"reports_received": 1, "investigations_open": 1, "decisions_not_enforced": 1}
    assert pick(first["bou-1"], {"reports_received": 0, "investigations_open": 0, "transfers_out": 1}) \
        == {"reports_received": 0, "investigations_open": 0, "transfers_out": 1}


def test_a_transfer_to_the_unit_it_leaves_changes_nothing():
    events = [report("2024-03-04T10:00:00+01:00"), transfer("2024-03-05T10:00:00+01:00", "bou-1")]
    got = units(events, MARCH)
    assert set(got) == {"bou-1"}
    assert pick(got["bou-1"], {"transfers_in": 0, "transfers_out": 0, "reports_awaiting_screening": 1}) \
        == {"transfers_in": 0, "transfers_out": 0, "reports_awaiting_screening": 1}


def test_every_unit_named_is_listed_with_every_key_even_all_zero():
    events = [report("2024-03-04T10:00:00+01:00"), screened("2024-03-05T10:00:00+01:00", unit="mottagning"),
              transfer("2024-03-06T10:00:00+01:00", "vux-1"), transfer("2024-03-25T10:00:00+01:00", "later")]
    got = units(events, MARCH)
    assert set(got) == {"bou-1", "mottagning", "vux-1"}  # "later" is named after as_of
    for figures in got.values():
        assert list(figures) == list(KPI_KEYS)
    assert got["mottagning"]["screenings_done"] == 0  # the screening counts in the case's unit, bou-1


def test_staff_never_transfer():
    events = [ev("staff.joined", "2024-03-01T08:00:00+01:00", case="s1", staff_id="s1", role="socialsekreterare",
                 employment="permanent"),
              ev("case.transferred", "2024-03-02T08:00:00+01:00", case="s1", to_unit="bou-2")]
    got = units(events, MARCH)
    assert got["bou-1"]["staff_active"] == {"permanent": 1.0}
    assert got["bou-2"]["staff_active"] == {}


# --- §3: linked investigations -----------------------------------------------------------------

def opened(at, case="c1", area="barn_unga", **kw):
    return ev("investigation.opened", at, case=case, area=area, **kw)


def closed(at, outcome="no_action", case="c1"):
    return ev("investigation.closed", at, case=case, outcome=outcome)


def extended(at, new_due, case="c1"):
    return ev("investigation.extended", at, case=case, new_due=new_due)


CHAIN = [
    opened("2024-01-10T10:00:00+01:00"), closed("2024-02-01T10:00:00+01:00"),
    opened("2024-02-10T10:00:00+01:00"), closed("2024-03-01T10:00:00+01:00"),  # 9 days later: linked
    opened("2024-03-12T10:00:00+01:00"),  # 11 days later: linked, so the first episode's clock runs
]


@pytest.mark.parametrize("as_of, expected", [
    # the chain's deadline: 10 January + 4 months = 10 May 10:00 (CEST), not 12 July
    ("2024-04-10T10:00:00+02:00", {"investigations_overdue": 0, "investigations_due_soon": 0}),
    ("2024-04-10T10:00:01+02:00", {"investigations_overdue": 0, "investigations_due_soon": 1}),
    ("2024-05-10T10:00:00+02:00", {"investigations_overdue": 0, "investigations_linked_open": 1}),
    ("2024-05-10T10:00:01+02:00", {"investigations_overdue": 1, "investigations_linked_open": 1,
                                    "investigations_open": 1}),
])
def test_a_linked_chain_of_three_episodes(as_of, expected):
    assert pick(kpis(CHAIN, as_of), expected) == expected


def test_linked_episodes_count_days_from_their_own_opening_and_close_late_against_the_chain():
    got = kpis(CHAIN + [closed("2024-05-20T10:00:00+02:00", outcome="decision")], "2024-05-31T12:00:00+02:00")
    assert pick(got, {"child_investigations_closed": 1, "child_investigations_closed_within_limit": 0,
                      "child_investigation_days_mean": 69, "investigation_days_mean": 69,
                      "investigations_linked_open": 0}) == {
        "child_investigations_closed": 1, "child_investigations_closed_within_limit": 0,
        "child_investigation_days_mean": 69, "investigation_days_mean": 69, "investigations_linked_open": 0}


LINKED_WITH_EXTENSIONS = [
    opened("2024-01-10T10:00:00+01:00"),
    extended("2024-01-20T10:00:00+01:00", "2024-06-01T10:00:00+02:00"),
    closed("2024-02-01T10:00:00+01:00"),
    opened("2024-02-05T10:00:00+01:00"),  # linked: inherits 1 June
    extended("2024-04-01T10:00:00+02:00", "2024-07-01T10:00:00+02:00"),  # its own extension
]


@pytest.mark.parametrize("as_of, overdue", [
    ("2024-03-15T10:00:00+01:00", 0),
    ("2024-06-01T10:00:00+02:00", 0),  # the extension of 1 April sets 1 July
    ("2024-07-01T10:00:00+02:00", 0),
    ("2024-07-01T10:00:01+02:00", 1),
])
def test_a_linked_episode_with_its_own_extension(as_of, overdue):
    assert kpis(LINKED_WITH_EXTENSIONS, as_of)["investigations_overdue"] == overdue


def test_a_linked_episode_inherits_the_previous_extension():
    events = LINKED_WITH_EXTENSIONS[:4]
    assert kpis(events, "2024-06-01T10:00:00+02:00")["investigations_overdue"] == 0
    assert kpis(events, "2024-06-01T10:00:01+02:00")["investigations_overdue"] == 1


@pytest.mark.parametrize("reopened, outcome, linked", [
    ("2024-02-15T10:00:00+01:00", "no_action", 1),  # 14 days: still linked
    ("2024-02-16T10:00:00+01:00", "no_action", 0),  # after 15 days: a new clock
    ("2024-02-05T10:00:00+01:00", "decision", 0),  # a close with a decision never links
])
def test_a_no_action_close_followed_after_15_days_is_not_linked(reopened, outcome, linked):
    events = [opened("2024-01-10T10:00:00+01:00"), closed("2024-02-01T10:00:00+01:00", outcome), opened(reopened)]
    # 10 May: the first clock's deadline; the reopened one's own runs to mid-June
    got = kpis(events, "2024-05-20T10:00:00+02:00")
    assert got["investigations_linked_open"] == linked
    assert got["investigations_overdue"] == linked


def test_an_adult_episode_between_does_not_link():
    events = [opened("2024-01-10T10:00:00+01:00"), closed("2024-02-01T10:00:00+01:00"),
              opened("2024-02-03T10:00:00+01:00", area="vuxna"), closed("2024-02-04T10:00:00+01:00"),
              opened("2024-02-05T10:00:00+01:00")]
    assert kpis(events, "2024-05-20T10:00:00+02:00")["investigations_linked_open"] == 0


# --- §3: the child-only investigation clock --------------------------------------------------------

@pytest.mark.parametrize("data, overdue", [
    ({"area": "vuxna"}, 0),  # an adult investigation has no deadline, extended or not
    ({"area": "barn_unga"}, 1),  # child by default
    ({"area": "barn_unga", "child": False}, 0),
    ({"area": "vald_i_nara_relation", "child": True}, 1),  # a child in a violence unit
])
def test_an_adult_investigation_with_an_extension_has_no_deadline(data, overdue):
    events = [ev("investigation.opened", "2024-01-10T10:00:00+01:00", **data),
              extended("2024-02-01T10:00:00+01:00", "2024-03-01T10:00:00+01:00")]
    got = kpis(events, "2024-06-01T10:00:00+02:00")
    assert got["investigations_open"] == 1
    assert got["investigations_overdue"] == overdue
    assert got["investigations_due_soon"] == 0


def test_child_counts_only_child_investigations():
    events = [opened("2024-01-10T10:00:00+01:00"), closed("2024-03-05T10:00:00+01:00", "decision"),
              opened("2024-02-10T10:00:00+01:00", case="c2", area="vuxna"),
              closed("2024-03-15T10:00:00+01:00", "decision", case="c2")]
    got = kpis(events, MARCH)
    # child: 10 Jan → 5 Mar = 55 days, within its 10 May deadline; adult: 10 Feb → 15 Mar = 34 days
    assert pick(got, {"investigations_closed": 2, "investigation_days_mean": (55 + 34) / 2,
                      "child_investigations_closed": 1, "child_investigations_closed_within_limit": 1,
                      "child_investigation_days_mean": 55}) == {
        "investigations_closed": 2, "investigation_days_mean": (55 + 34) / 2, "child_investigations_closed": 1,
        "child_investigations_closed_within_limit": 1, "child_investigation_days_mean": 55}


# --- §3: decisions, interruptions, legal basis -------------------------------------------------------

def decision(at="2024-01-05T10:00:00+01:00", **kw):
    return ev("decision.made", at, decision_id="d1", intervention="kontaktperson", **kw)


def follow(type_, at):
    return ev(type_, at, decision_id="d1")


INTERRUPTED = [decision(), follow("decision.enforced", "2024-01-20T10:00:00+01:00"),
               follow("decision.interrupted", "2024-02-01T10:00:00+01:00")]  # 3 months: 1 May 10:00 CEST


@pytest.mark.parametrize("later, as_of, interrupted, reportable", [
    ([], "2024-03-01T10:00:00+01:00", 1, 0),
    ([], "2024-05-01T10:00:00+02:00", 1, 0),
    ([], "2024-05-01T10:00:01+02:00", 1, 1),
    # resumed before 3 months
    ([follow("decision.resumed", "2024-04-15T10:00:00+02:00")], "2024-04-14T10:00:00+02:00", 1, 0),
    ([follow("decision.resumed", "2024-04-15T10:00:00+02:00")], "2024-05-20T10:00:00+02:00", 0, 0),
    # resumed after 3 months: reportable until then
    ([follow("decision.resumed", "2024-05-15T10:00:00+02:00")], "2024-05-10T10:00:00+02:00", 1, 1),
    ([follow("decision.resumed", "2024-05-15T10:00:00+02:00")], "2024-05-16T10:00:00+02:00", 0, 0),
    # an ending ends the interruption too
    ([follow("decision.ended", "2024-03-15T10:00:00+01:00")], "2024-05-20T10:00:00+02:00", 0, 0),
])
def test_interruption_resumed_before_and_after_3_months(later, as_of, interrupted, reportable):
    got = kpis(INTERRUPTED + later, as_of)
    assert (got["enforcements_interrupted"], got["interruptions_reportable"]) == (interrupted, reportable)
    assert got["decisions_not_enforced"] == 0


def test_an_interruption_before_enforcement_or_of_an_lvu_decision():
    never_enforced = [decision(), follow("decision.interrupted", "2024-02-01T10:00:00+01:00")]
    assert kpis(never_enforced, "2024-03-01T10:00:00+01:00")["enforcements_interrupted"] == 0
    lvu = [decision(legal_basis="lvu"), *INTERRUPTED[1:]]
    got = kpis(lvu, "2024-06-01T10:00:00+02:00")
    assert (got["enforcements_interrupted"], got["interruptions_reportable"]) == (1, 0)


@pytest.mark.parametrize("basis, reportable", [("sol", 1), (None, 1), ("lvu", 0), ("lvm", 0), ("annan", 0)])
def test_lvu_decision_past_3_months_is_not_reportable(basis, reportable):
    kw = {} if basis is None else {"legal_basis": basis}
    got = kpis([decision(**kw)], "2024-05-01T10:00:00+02:00")
    assert (got["decisions_not_enforced"], got["decisions_reportable"]) == (1, reportable)
    assert got["decisions_due_soon"] == 0


@pytest.mark.parametrize("enforced_at, within", [
    ("2024-04-05T10:00:00+02:00", 1),  # exactly 3 months
    ("2024-04-05T10:00:01+02:00", 0),
])
def test_decisions_enforced_within_the_limit(enforced_at, within):
    events = [decision(), follow("decision.enforced", enforced_at), follow("decision.enforced", "2024-04-10T10:00:00+02:00")]
    got = kpis(events, "2024-04-20T10:00:00+02:00")
    assert (got["decisions_enforced"], got["decisions_enforced_within_limit"]) == (1, within)


def test_decision_facts_keep_sex_basis_and_delay_reasons():
    r = Replay()
    r.add_lines(line(e) for e in [
        decision(sex="kvinna", legal_basis="sol"),
        ev("decision.delay_reason", "2024-03-01T10:00:00+01:00", decision_id="d1", reason="ingen_resurs", note="x"),
        ev("decision.delay_reason", "2024-04-01T10:00:00+02:00", decision_id="d1", reason="enskild_vill_vanta"),
    ])
    (facts,) = r.facts()
    (d,) = facts.decisions
    assert (d.sex, d.legal_basis) == ("kvinna", "sol")
    assert [reason for _at, reason in d.delay_reasons] == ["ingen_resurs", "enskild_vill_vanta"]
    assert facts_from_json(facts_to_json(facts)) == facts


# --- §3: the protection and screening clocks' compliance ------------------------------------------

@pytest.mark.parametrize("events, expected", [
    # a screening exactly at the 24-hour limit resolves the protection clock within it
    ([report("2024-03-01T10:00:00+01:00"), screened("2024-03-02T10:00:00+01:00")],
     {"protection_assessments_done": 1, "protection_assessments_done_within_limit": 1,
      "screenings_done": 1, "screenings_done_within_limit": 1}),
    ([report("2024-03-01T10:00:00+01:00"), screened("2024-03-02T10:00:01+01:00")],
     {"protection_assessments_done": 1, "protection_assessments_done_within_limit": 0,
      "screenings_done": 1, "screenings_done_within_limit": 1}),
    # an assessment first resolves the protection clock; a late screening misses its 14 days
    ([report("2024-03-01T10:00:00+01:00"),
      ev("report.protection_assessed", "2024-03-01T12:00:00+01:00", immediate_protection=False),
      screened("2024-03-15T10:00:01+01:00", outcome="joined_ongoing_investigation")],
     {"protection_assessments_done": 1, "protection_assessments_done_within_limit": 1,
      "screenings_done": 1, "screenings_done_within_limit": 0}),
    # resolved in February: not this month's
    ([report("2024-02-28T10:00:00+01:00"), screened("2024-02-29T09:00:00+01:00")],
     {"protection_assessments_done": 0, "screenings_done": 0}),
])
def test_protection_clock_resolved_by_a_screening_exactly_at_the_limit(events, expected):
    assert pick(kpis(events, MARCH), expected) == expected


# --- §4: economic assistance and staff ------------------------------------------------------------

def test_households_paid_and_new_applicants_wait():
    events = [ev("payment.made", "2024-03-02T10:00:00+01:00", amount_sek=1000),
              ev("payment.made", "2024-03-12T10:00:00+01:00", amount_sek=500),
              ev("payment.made", "2024-03-12T10:00:00+01:00", case="c2", amount_sek=700),
              ev("payment.made", "2024-02-12T10:00:00+01:00", case="c3", amount_sek=700),
              ev("application.received", "2024-03-01T10:00:00+01:00", case="c4", new_applicant=True),
              ev("application.decided", "2024-03-11T10:00:00+01:00", case="c4", granted=True),
              ev("application.received", "2024-03-01T10:00:00+01:00", case="c5"),
              ev("application.decided", "2024-03-03T10:00:00+01:00", case="c5", granted=False)]
    got = kpis(events, MARCH)
    assert pick(got, {"households_paid": 2, "payments_sek": 2200, "application_wait_days_mean": 6,
                      "new_applicant_wait_days_mean": 10}) == {
        "households_paid": 2, "payments_sek": 2200, "application_wait_days_mean": 6, "new_applicant_wait_days_mean": 10}


def test_permanent_staff_turnover_inputs():
    def joined(at, sid, employment="permanent"):
        return ev("staff.joined", at, case=sid, staff_id=sid, role="socialsekreterare", employment=employment)

    events = [joined("2024-01-01T08:00:00+01:00", "s1"), joined("2024-03-11T08:00:00+01:00", "s2"),
              joined("2024-01-01T08:00:00+01:00", "k1", "consultant"),
              ev("staff.left", "2024-03-06T17:00:00+01:00", case="s1", staff_id="s1")]
    got = kpis(events, MARCH)
    # s1: 1-5 March (5 days), s2: 11-20 March (10 days) over 20 days
    assert got["permanent_staff_left"] == 1
    assert got["permanent_staff_mean"] == 15 / 20


# --- validation (§1, §2, §7) -----------------------------------------------------------------------

def test_v2_events_validate_and_unknown_units_are_rejected_only_with_a_registry():
    moved = transfer("2024-03-02T10:00:00+01:00", "bou-2")
    assert isinstance(validate_line(line(moved)), Event)
    assert validate_line(line(moved), {("0138", "bou-1"), ("0138", "bou-2")}).payload == ("bou-2",)
    assert validate_line(line(moved), {("0138", "bou-1")}) == Rejection("unknown_unit", "data.to_unit")
    assert validate_line(line(moved), {("0138", "bou-2")}) == Rejection("unknown_unit", "unit")
    assert validate_line(line(dict(moved, data={"to_unit": "Bou 2"}))) == Rejection("bad_value", "data.to_unit")
    assert validate_line(line(dict(moved, data={}))) == Rejection("missing_field", "data.to_unit")
    bad_reason = ev("decision.delay_reason", MARCH, decision_id="d1", reason="semester")
    assert validate_line(line(bad_reason)) == Rejection("bad_value", "data.reason")


def test_a_registry_rejection_is_counted_by_replay():
    r = Replay(registry={("0138", "bou-1")})
    r.add_lines([line(report("2024-03-04T10:00:00+01:00")), line(report("2024-03-04T10:00:00+01:00", unit="x"))])
    result = r.result(parse_instant(MARCH))
    assert result["events"]["rejected_by_reason"] == {"unknown_unit": 1}
    assert set(result["units"]["0138"]) == {"bou-1"}


def test_facts_written_before_v2_still_load_with_v1_meaning():
    r = Replay()
    r.add_lines(line(e) for e in [report("2024-03-04T10:00:00+01:00"), opened("2024-03-05T10:00:00+01:00", area="vuxna")])
    (facts,) = r.facts()
    v1 = orjson.loads(facts_to_json(facts))[:8]  # the families a v1 worker wrote
    v1[2] = [inv[:4] for inv in v1[2]]  # and v1's investigation shape
    old = facts_from_json(orjson.dumps(v1))
    assert old.units == facts.units
    assert old.investigations[0].child is True  # v1 put every investigation on the clock
    assert fold_case("0138", [], None).units == ()


def test_period_option_applies_to_v2_counts():
    events = [transfer("2024-02-20T10:00:00+01:00", "bou-2"), transfer("2024-03-05T10:00:00+01:00", "bou-1", "bou-2")]
    got = units(events, MARCH, Period.month(2024, 2))
    assert (got["bou-1"]["transfers_out"], got["bou-2"]["transfers_in"], got["bou-2"]["transfers_out"]) == (1, 1, 0)


def test_change_instants_include_a_move_the_unit_is_not_named_in():
    """A transfer whose envelope names another unit than the case's still moves the case's items
    out of its unit at that instant: a reader caching the unit's figures must know it."""
    from streams.core.changes import change_instants
    from streams.core.kpis import group_by_unit, unit_kpis
    from streams.core.timeutil import day_start, local_day

    events = [report("2024-03-04T10:00:00+01:00"),
              ev("investigation.opened", "2024-03-04T11:00:00+01:00", area="vuxna"),
              transfer("2024-03-06T10:00:00+01:00", "vux-1", unit="bou-2"),
              transfer("2024-03-08T10:00:00+01:00", "bou-1", unit="mottagning")]
    r = Replay()
    r.add_lines(line(e) for e in events)
    items = group_by_unit(r.facts())[("0138", "bou-1")]
    instants = change_instants(items)
    probes = sorted({parse_instant(e["occurred_at"]) + d for e in events for d in (-1, 0, 1, 3600)})
    for t in probes:
        period = Period.month_to_date(t)
        upcoming = [x for x in instants if x > t]
        end = min(upcoming[0] if upcoming else float("inf"), day_start(local_day(t) + 1))
        later = [p for p in probes if t < p < end]
        for p in later:
            assert unit_kpis(items, p, period) == unit_kpis(items, t, period), (t, p)
    moved = parse_instant("2024-03-06T10:00:00+01:00")
    assert moved in instants
    period = Period.month_to_date(moved)
    assert unit_kpis(items, moved - 1, period)["investigations_open"] == 1
    assert unit_kpis(items, moved, period)["investigations_open"] == 0
