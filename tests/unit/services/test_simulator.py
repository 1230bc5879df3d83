"""`casewatch simulate`: determinism, realism (DOMAIN.md orders of magnitude), contract conformance."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import orjson
import pytest

from services.simulator import SimulationSpec, SimulationStats, simulate, simulate_chunks, simulate_labelled
from services.simulator.generate import b36, fake_personal_number, municipality_codes, seed_tag
from streams.contract.personal_id import contains_personal_id
from streams.contract.validate import Rejection, validate_line
from streams.core.timeutil import STOCKHOLM

END = datetime(2025, 1, 1, tzinfo=STOCKHOLM)
WINDOW_START = datetime(2024, 1, 1, tzinfo=STOCKHOLM)
YEAR = SimulationSpec(months=12, end=END, seed=7)


@pytest.fixture(scope="module")
def year_lines() -> list[bytes]:
    return list(simulate(YEAR))


@pytest.fixture(scope="module")
def year_events(year_lines) -> list[dict]:
    """Distinct events of the 12-month, 50,000-population stream (first copy of each id)."""
    seen, events = set(), []
    for line in year_lines:
        obj = orjson.loads(line)
        if obj["event_id"] not in seen:
            seen.add(obj["event_id"])
            events.append(obj)
    return events


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def in_window(event: dict) -> bool:
    return WINDOW_START <= ts(event["occurred_at"]) < END


# --- the contract, re-read from CONTRACT.md (independent of streams/contract) ----------------------

REPORTERS = {"skola", "polis", "halso_sjukvard", "socialtjanst", "anonym", "annan"}
AGE_BANDS = {"0-12", "13-17", "18-20"}
AREAS = {"barn_unga", "vuxna", "ekonomiskt_bistand", "vald_i_nara_relation", "annan"}
INTERVENTIONS = {"familjebehandling", "kontaktfamilj", "kontaktperson", "placement", "stodboende", "annan"}
PLACEMENT_TYPES = {"hvb", "sis", "familjehem", "familjehem_arvoderat", "jourhem", "skyddat_boende", "stodboende"}
LEGAL_BASES = {"sol", "lvu", "lvm"}
DELAY_REASONS = {"ingen_resurs", "tackat_nej_till_erbjudande", "enskild_vill_vanta", "annan"}
ROLES = {"socialsekreterare", "arbetsledare", "behandlare", "annan"}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")


def is_id(v):
    return isinstance(v, str) and 1 <= len(v) <= 64


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_ts(v):
    return isinstance(v, str) and TIMESTAMP.fullmatch(v) is not None


def enum(values):
    return lambda v: v in values


# type -> {field: (required, check)}
CATALOGUE = {
    "report.received": {"reporter": (True, enum(REPORTERS)), "age_band": (False, enum(AGE_BANDS))},
    "report.protection_assessed": {"immediate_protection": (True, lambda v: isinstance(v, bool))},
    "report.screened": {"outcome": (True, enum({"investigation_opened", "no_investigation"}))},
    "investigation.opened": {"area": (True, enum(AREAS)), "child": (False, lambda v: isinstance(v, bool))},
    "investigation.extended": {"new_due": (True, is_ts)},
    "investigation.closed": {"outcome": (True, enum({"decision", "no_action"}))},
    "decision.made": {"decision_id": (True, is_id), "intervention": (True, enum(INTERVENTIONS)),
                      "legal_basis": (False, enum(LEGAL_BASES | {"annan"})), "sex": (False, enum({"kvinna", "man"}))},
    "decision.enforced": {"decision_id": (True, is_id)},
    "decision.ended": {"decision_id": (True, is_id), "reason": (False, lambda v: isinstance(v, str))},
    "placement.started": {"placement_id": (True, is_id), "placement_type": (True, enum(PLACEMENT_TYPES)),
                          "daily_cost_sek": (True, lambda v: is_num(v) and v >= 0),
                          "age_band": (False, enum(AGE_BANDS)), "legal_basis": (False, enum(LEGAL_BASES))},
    "placement.cost_changed": {"placement_id": (True, is_id), "daily_cost_sek": (True, lambda v: is_num(v) and v >= 0)},
    "placement.ended": {"placement_id": (True, is_id)},
    "application.received": {"new_applicant": (False, lambda v: isinstance(v, bool))},
    "application.decided": {"granted": (True, lambda v: isinstance(v, bool))},
    "payment.made": {"amount_sek": (True, is_num)},
    "staff.joined": {"staff_id": (True, is_id), "role": (True, enum(ROLES)),
                     "employment": (True, enum({"permanent", "consultant"})),
                     "fte": (False, lambda v: is_num(v) and 0 < v <= 1),
                     "daily_cost_sek": (False, lambda v: is_num(v) and v >= 0)},
    "staff.left": {"staff_id": (True, is_id)},
    "case.transferred": {"to_unit": (True, lambda v: isinstance(v, str) and re.fullmatch(r"[a-z0-9-]{1,40}", v))},
    "decision.interrupted": {"decision_id": (True, is_id)},
    "decision.resumed": {"decision_id": (True, is_id)},
    "decision.delay_reason": {"decision_id": (True, is_id), "reason": (True, enum(DELAY_REASONS)),
                              "note": (False, lambda v: isinstance(v, str))},
}
# case.transferred needs the flow units (mottagning, vald, behandling), not among the default ones.
NEEDS_FLOW_UNITS = {"case.transferred"}
ENVELOPE = {"event_id", "type", "occurred_at", "municipality", "unit", "case_id", "data", "recorded_at", "source"}


def check_contract(obj: dict) -> None:
    assert set(obj) <= ENVELOPE, set(obj) - ENVELOPE
    assert ENVELOPE - set(obj) <= {"recorded_at", "source"}
    assert is_id(obj["event_id"]) and is_id(obj["case_id"])
    assert re.fullmatch(r"\d{4}", obj["municipality"])
    assert re.fullmatch(r"[a-z0-9-]{1,40}", obj["unit"])
    assert obj["source"] == "casewatch-simulator"
    for name in ("occurred_at", "recorded_at"):
        if name in obj:
            assert is_ts(obj[name])
            moment = ts(obj[name])  # the offset is Stockholm's at that instant
            assert moment.utcoffset() == moment.astimezone(STOCKHOLM).utcoffset()
            assert obj[name][-6:] in ("+01:00", "+02:00")
    fields = CATALOGUE[obj["type"]]
    data = obj["data"]
    assert isinstance(data, dict)
    assert set(data) <= set(fields), (obj["type"], set(data) - set(fields))  # exactly the contract's fields
    for name, (required, check) in fields.items():
        if name in data:
            assert check(data[name]), (obj["type"], name, data[name])
        else:
            assert not required, (obj["type"], name)
    if obj["type"].startswith("staff."):
        assert data["staff_id"] == obj["case_id"]
    if obj["type"] == "staff.joined" and data["employment"] == "consultant":
        assert 6_000 <= data["daily_cost_sek"] <= 9_000


# --- tests -------------------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_differs():
    spec = SimulationSpec(municipalities=2, months=3, end=END, seed=11, invalid_rate=0.01)
    first = b"".join(simulate(spec))
    assert first == b"".join(simulate(spec))
    assert first == b"".join(b"".join(chunk) for chunk in simulate_chunks(spec))
    other = b"".join(simulate(SimulationSpec(municipalities=2, months=3, end=END, seed=12, invalid_rate=0.01)))
    assert other != first
    assert len(first) > 10_000


def test_lines_are_jsonl_in_arrival_order(year_lines):
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in year_lines)
    # Arrival order: the event time, except late copies (recorded_at) and re-sent duplicates.
    previous = None
    out_of_order = 0
    for line in year_lines:
        obj = orjson.loads(line)
        arrival = ts(obj.get("recorded_at", obj["occurred_at"]))
        if previous is not None and arrival < previous - timedelta(days=3, minutes=1):
            out_of_order += 1
        previous = max(previous or arrival, arrival)
    assert out_of_order == 0


def test_every_valid_line_meets_the_contract(year_lines):
    types = Counter()
    for line in year_lines:
        obj = orjson.loads(line)
        check_contract(obj)
        types[obj["type"]] += 1
    assert set(types) == set(CATALOGUE) - NEEDS_FLOW_UNITS  # every other event type occurs


def test_official_validator_accepts_every_line(year_lines):
    for line in year_lines:
        outcome = validate_line(line)
        assert not isinstance(outcome, Rejection), (outcome, line)


def test_no_personal_number_lookalikes_in_valid_events(year_lines):
    for line in year_lines:
        assert re.search(rb"\d{10}", line) is None
        assert not contains_personal_id(line.decode())
        # ids never contain long digit runs (cheap path of the validator's pre-filter)
        assert re.search(rb"\d{6}", line) is None


def test_ids_are_unique_and_pseudonymous(year_events):
    ids = [e["event_id"] for e in year_events]
    assert len(ids) == len(set(ids))
    assert all(e["event_id"].startswith("0138-") for e in year_events)
    for e in year_events:
        assert re.fullmatch(r"[csdp]-0138-[0-9a-z]{1,5}", e["case_id"]), e["case_id"]


def test_reports_per_year_and_share_investigated(year_events):
    window = [e for e in year_events if in_window(e)]
    types = Counter(e["type"] for e in window)
    # DOMAIN: 2,000-2,500 reports a year at 50,000 (40-50 a week); ~38 % investigated.
    assert 1_800 <= types["report.received"] <= 2_800
    outcomes = Counter(e["data"]["outcome"] for e in window if e["type"] == "report.screened")
    share = outcomes["investigation_opened"] / sum(outcomes.values())
    assert 0.30 <= share <= 0.46
    child_investigations = sum(1 for e in window if e["type"] == "investigation.opened" and e["unit"].startswith("bou"))
    assert 700 <= child_investigations <= 1_100  # DOMAIN: 800-950 investigations


def test_weekly_rhythm(year_events):
    by_weekday = Counter(ts(e["occurred_at"]).astimezone(STOCKHOLM).weekday()
                         for e in year_events if e["type"] == "report.received" and in_window(e))
    assert min(by_weekday[d] for d in range(5)) > 1.4 * max(by_weekday[5], by_weekday[6])


def test_deadline_breaches_and_extensions(year_events):
    by_case = defaultdict(dict)
    for e in year_events:
        by_case[e["case_id"]].setdefault(e["type"], e)
    screened = overdue = protection_late = 0
    for events in by_case.values():
        report, screen = events.get("report.received"), events.get("report.screened")
        if report and screen:
            screened += 1
            overdue += ts(screen["occurred_at"]) - ts(report["occurred_at"]) > timedelta(days=14)
            protected = events.get("report.protection_assessed")
            if protected:
                protection_late += ts(protected["occurred_at"]) - ts(report["occurred_at"]) > timedelta(hours=24)
    assert 0.15 <= overdue / screened <= 0.45  # brief: 20-40 % breach the 14 days
    assert protection_late > 0
    extended = [e for e in year_events if e["type"] == "investigation.extended"]
    assert extended
    for e in extended:
        opened = by_case[e["case_id"]]["investigation.opened"]
        assert ts(e["data"]["new_due"]) > ts(opened["occurred_at"]) + timedelta(days=120)
    long_running = 0
    for events in by_case.values():
        if "investigation.closed" in events and "investigation.extended" not in events:
            span = ts(events["investigation.closed"]["occurred_at"]) - ts(events["investigation.opened"]["occurred_at"])
            long_running += span > timedelta(days=123)
    assert long_running > 0  # some breach the 4 months without an extension


def test_decisions_placements_and_money(year_events):
    window = [e for e in year_events if in_window(e)]
    types = Counter(e["type"] for e in window)
    closed = Counter(e["data"]["outcome"] for e in window if e["type"] == "investigation.closed")
    assert 0.3 <= closed["decision"] / sum(closed.values()) <= 0.6
    assert types["decision.enforced"] > types["decision.ended"] > 0
    # DOMAIN: ~125 children in care during a year (~90 foster homes, ~30 HVB) at 50,000.
    started = {e["data"]["placement_id"]: e for e in year_events if e["type"] == "placement.started"}
    ended = {e["data"]["placement_id"]: e for e in year_events if e["type"] == "placement.ended"}
    active_in_year = [p for pid, p in started.items() if p["unit"].startswith("bou")
                      and ts(p["occurred_at"]) < END and (pid not in ended or ts(ended[pid]["occurred_at"]) >= WINDOW_START)]
    kinds = Counter(p["data"]["placement_type"] for p in active_in_year)
    assert 95 <= len(active_in_year) <= 180
    assert 65 <= kinds["familjehem"] + kinds["familjehem_arvoderat"] <= 120
    assert 15 <= kinds["hvb"] <= 45
    costs = defaultdict(list)
    for p in started.values():
        costs[p["data"]["placement_type"]].append(p["data"]["daily_cost_sek"])
    assert all(1_100 <= c <= 8_400 for c in costs["hvb"])
    assert all(600 <= c <= 1_500 for c in costs["familjehem"] + costs["familjehem_arvoderat"])
    payments = [e["data"]["amount_sek"] for e in window if e["type"] == "payment.made"]
    assert payments and all(4_000 <= a <= 15_000 for a in payments)
    waits = {}
    for e in year_events:
        if e["type"] in ("application.received", "application.decided"):
            waits.setdefault(e["case_id"], {})[e["type"]] = ts(e["occurred_at"])
    days = [(w["application.decided"] - w["application.received"]).days for w in waits.values() if len(w) == 2]
    assert 8 <= sum(days) / len(days) <= 16  # DOMAIN U31402: target 10 days


def six_months_after(day):
    """LVM 20 §: the same day of the month six months on, or that month's last day."""
    month = day.month + 6
    year, month = day.year + (month - 1) // 12, (month - 1) % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue


def test_adults_are_placed_at_sis_mostly_under_lvm_for_six_months_at_most(year_events):
    """Adults with addiction are placed in SiS's LVM homes (~1,000 a year in Sweden: ~4-5 at
    50,000), mostly under LVM, whose care ends at the latest when it has lasted six months."""
    started = {e["data"]["placement_id"]: e for e in year_events if e["type"] == "placement.started"}
    ended = {e["data"]["placement_id"]: ts(e["occurred_at"]) for e in year_events if e["type"] == "placement.ended"}
    adults = [e for e in started.values() if e["unit"].startswith("vuxen")]
    sis = [e for e in adults if e["data"]["placement_type"] == "sis"]
    assert 0.04 <= len(sis) / len(adults) <= 0.2
    lvm = [e for e in sis if e["data"].get("legal_basis") == "lvm"]
    assert len(lvm) >= 0.6 * len(sis) > 0
    assert all(4_900 <= e["data"]["daily_cost_sek"] <= 16_000 for e in sis)  # DOMAIN: SiS 4,900-7,500, special units more
    finished = [pid for pid in (e["data"]["placement_id"] for e in lvm) if pid in ended]
    assert finished
    for pid in finished:
        begun = ts(started[pid]["occurred_at"]).astimezone(STOCKHOLM).date()
        assert ended[pid].astimezone(STOCKHOLM).date() <= six_months_after(begun), pid
    # LVM is adults' law, LVU children's: never the other way round
    bases = Counter((e["unit"].startswith("vuxen"), e["data"].get("legal_basis", "sol")) for e in started.values())
    assert bases[(False, "lvm")] == 0 and bases[(True, "lvu")] == 0
    made = Counter(e["data"].get("legal_basis", "sol") for e in year_events
                   if e["type"] == "decision.made" and e["unit"].startswith("vuxen"))
    assert made["lvm"] >= len(lvm)  # each placement under LVM follows its decision


def test_adults_placements_carry_no_childrens_age_band(year_events):
    """The contract's bands are 0-12, 13-17 and 18-20: an adult's placement says 18-20 when the
    adult is that young and carries no band otherwise; a child's always carries one."""
    started = [e for e in year_events if e["type"] == "placement.started"]
    adults = Counter(e["data"].get("age_band") for e in started if e["unit"].startswith("vuxen"))
    children = Counter(e["data"].get("age_band") for e in started if not e["unit"].startswith("vuxen"))
    assert set(adults) <= {"18-20", None} and adults[None] > 2 * adults["18-20"] > 0
    assert None not in children and children["0-12"] > 0 and children["13-17"] > 0


def test_warm_start(year_events):
    """Placements, staff and open investigations exist on the first day of the window."""
    first_day = WINDOW_START
    running = sum(1 for e in year_events if e["type"] == "placement.started" and ts(e["occurred_at"]) < first_day)
    staff = Counter(e["data"]["employment"] for e in year_events
                    if e["type"] == "staff.joined" and ts(e["occurred_at"]) < first_day)
    opened_before = sum(1 for e in year_events
                        if e["type"] == "investigation.opened" and ts(e["occurred_at"]) < first_day)
    assert running >= 60
    assert staff["permanent"] >= 20 and staff["consultant"] >= 1
    assert opened_before >= 150


def test_duplicates_and_late_events(year_lines):
    ids = Counter(orjson.loads(line)["event_id"] for line in year_lines)
    duplicates = sum(n - 1 for n in ids.values())
    assert 0.006 <= duplicates / len(ids) <= 0.014  # requested 1 %
    copies = defaultdict(set)
    for line in year_lines:
        copies[orjson.loads(line)["event_id"]].add(line)
    assert all(len(lines) == 1 for lines in copies.values())  # a re-sent copy is the same bytes
    late = [orjson.loads(line) for line in year_lines if b'"recorded_at"' in line]
    assert 0.01 <= len(late) / len(ids) <= 0.03  # requested 2 %
    assert all(ts(e["recorded_at"]) - ts(e["occurred_at"]) >= timedelta(hours=1) for e in late)


def test_rates_zero_give_a_clean_stream():
    spec = SimulationSpec(months=2, end=END, duplicate_rate=0.0, late_rate=0.0)
    lines = list(simulate(spec))
    ids = [orjson.loads(line)["event_id"] for line in lines]
    assert len(ids) == len(set(ids))
    assert not any(b"recorded_at" in line for line in lines)


def test_invalid_lines_are_rejected_with_the_expected_reason():
    spec = SimulationSpec(months=2, end=END, invalid_rate=0.05, seed=3)
    labelled = list(simulate_labelled(spec))
    assert [line for line, _ in labelled] == list(simulate(spec))
    reasons = Counter()
    for line, expected in labelled:
        outcome = validate_line(line)
        if expected is None:
            assert not isinstance(outcome, Rejection), (outcome, line)
        else:
            assert isinstance(outcome, Rejection) and outcome.reason == expected, (expected, outcome, line)
            reasons[expected] += 1
    assert set(reasons) == {"invalid_json", "missing_field", "bad_type", "unknown_type", "bad_timestamp",
                            "personal_id_in_payload"}
    # The malformed lines come on top: the valid ones are those of the same spec without them.
    clean = list(simulate(SimulationSpec(months=2, end=END, invalid_rate=0.0, seed=3)))
    assert [line for line, expected in labelled if expected is None] == clean


def test_fake_personal_numbers_pass_the_contract_check():
    import random

    rng = random.Random(5)
    for _ in range(500):
        assert contains_personal_id(fake_personal_number(rng))


def test_several_municipalities_and_units():
    codes = municipality_codes(290)
    assert codes[0] == "0138" and len(set(codes)) == 290
    assert all(re.fullmatch(r"\d{4}", c) for c in municipality_codes(400))
    spec = SimulationSpec(municipalities=3, population=20_000, months=2, end=END,
                          units_per_municipality=("bou-a", "vuxen-1", "eb-1", "stab"))
    seen = Counter((obj["municipality"], obj["unit"]) for obj in map(orjson.loads, simulate(spec)))
    assert {m for m, _ in seen} == {"0138", "0114", "0115"}
    assert {u for _, u in seen} == {"bou-a", "vuxen-1", "eb-1", "stab"}
    assert SimulationSpec(population=200_000, end=END).units == (
        "bou-1", "bou-2", "bou-3", "bou-4", "bou-5", "bou-6", "bou-7", "bou-8", "vuxen-1", "vuxen-2",
        "vuxen-3", "vuxen-4", "eb-1", "eb-2", "eb-3", "eb-4")


def test_population_scales_volumes():
    def reports(population):
        spec = SimulationSpec(population=population, months=3, end=END)
        return sum(1 for line in simulate(spec) if b'"report.received"' in line)

    small, large = reports(25_000), reports(100_000)
    assert 3.0 <= large / small <= 5.0


def test_spec_validation():
    with pytest.raises(ValueError):
        SimulationSpec(end=datetime(2025, 1, 1))  # naive
    with pytest.raises(ValueError):
        SimulationSpec(end=END, units_per_municipality=("Bou 1",))
    with pytest.raises(ValueError):
        SimulationSpec(end=END, late_rate=1.5)
    start, end = SimulationSpec(months=12, end=END).window()
    assert start == WINDOW_START and end == END


def test_stats_and_helpers():
    stats = SimulationStats()
    lines = [line for chunk in simulate_chunks(SimulationSpec(months=1, end=END), stats) for line in chunk]
    assert stats.lines == len(lines) == stats.events + stats.duplicates + stats.invalid
    assert stats.first_occurred_at < stats.last_occurred_at
    assert len({b36(n) for n in range(0, 3_000_000, 7)}) == len(range(0, 3_000_000, 7))
    assert seed_tag(1).isalpha() and seed_tag(1) != seed_tag(2)


def test_cli_writes_file_and_summary(tmp_path):
    import typer
    from typer.testing import CliRunner

    from services.commands.simulate import simulate_command

    app = typer.Typer()
    app.command()(simulate_command)
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(app, ["--out", str(out), "--months", "1", "--end", "2024-12-31", "--seed", "4"])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    spec = SimulationSpec(months=1, end=END, seed=4)
    assert data == b"".join(simulate(spec))
    assert "municipalit" in result.output or "municipalit" in (result.stderr if hasattr(result, "stderr") else "")


# --- contract v2: flows between units, the law's clocks, LVU, interruptions ------------------------

FLOW_UNITS = ("mottagning-1", "bou-1", "bou-2", "vald-1", "behandling-1", "vuxen-1", "eb-1")
FLOW = SimulationSpec(months=12, end=END, seed=5, units_per_municipality=FLOW_UNITS)


@pytest.fixture(scope="module")
def flow_events() -> list[dict]:
    seen, events = set(), []
    for line in simulate(FLOW):
        obj = orjson.loads(line)
        check_contract(obj)
        if obj["event_id"] not in seen:
            seen.add(obj["event_id"])
            events.append(obj)
    return events


def test_flow_units_give_every_v2_event_type(flow_events):
    assert {e["type"] for e in flow_events} == set(CATALOGUE)


def test_cases_move_from_intake_to_investigation_to_treatment(flow_events):
    by_case = defaultdict(list)
    for e in flow_events:
        by_case[e["case_id"]].append(e)
    reports = [e for e in flow_events if e["type"] == "report.received"]
    assert reports and {e["unit"] for e in reports} == {"mottagning-1"}  # the intake unit receives
    moves = Counter((e["unit"], e["data"]["to_unit"]) for e in flow_events if e["type"] == "case.transferred")
    assert moves[("mottagning-1", "bou-1")] > 100 and moves[("mottagning-1", "bou-2")] > 100
    assert moves[("mottagning-1", "vald-1")] > 10
    assert moves[("bou-1", "behandling-1")] + moves[("bou-2", "behandling-1")] > 10
    for case in by_case.values():  # a case's unit follows its transfers, event by event
        unit = case[0]["unit"] if case[0]["type"] != "staff.joined" else None
        for e in sorted(case, key=lambda e: (ts(e["occurred_at"]), e["type"] != "case.transferred")):
            assert e["unit"] == unit or unit is None, (e, unit)
            if e["type"] == "case.transferred":
                unit = e["data"]["to_unit"]
    opened = Counter(e["unit"] for e in flow_events if e["type"] == "investigation.opened")
    assert opened["mottagning-1"] == 0 and opened["vald-1"] > 10 and opened["vuxen-1"] > 100
    violence = [e for e in flow_events if e["type"] == "investigation.opened" and e["unit"] == "vald-1"]
    assert all(e["data"].get("child") is True for e in violence)  # child investigations about violence


def test_no_action_closes_are_sometimes_reopened_within_days_and_later(flow_events):
    by_case = defaultdict(list)
    for e in flow_events:
        if e["type"] in ("investigation.opened", "investigation.closed"):
            by_case[e["case_id"]].append(e)
    gaps = []
    for case in by_case.values():
        case.sort(key=lambda e: ts(e["occurred_at"]))
        for closed, reopened in zip(case, case[1:]):
            if closed["type"] == "investigation.closed" and reopened["type"] == "investigation.opened":
                assert closed["data"]["outcome"] == "no_action"
                gaps.append((ts(reopened["occurred_at"]) - ts(closed["occurred_at"])).days)
    assert sum(1 for g in gaps if g <= 14) > 10  # linked: the clock continues
    assert sum(1 for g in gaps if g > 15) > 2  # a new clock


def test_legal_bases_sex_interruptions_and_new_applicants(flow_events):
    made = [e["data"] for e in flow_events if e["type"] == "decision.made"]
    basis = Counter(d.get("legal_basis", "sol") for d in made)
    assert basis["lvu"] > 10 and basis["sol"] > 10 * basis["lvu"] / 3
    sexes = Counter(d.get("sex") for d in made)
    assert sexes["kvinna"] > 0.3 * len(made) and sexes["man"] > 0.3 * len(made) and sexes[None] < 0.1 * len(made)
    placements = Counter(e["data"].get("legal_basis", "sol") for e in flow_events if e["type"] == "placement.started")
    assert placements["lvu"] > 10 and placements["sol"] > placements["lvu"]
    sis_children = [e["data"] for e in flow_events if e["type"] == "placement.started"
                    and e["data"]["placement_type"] == "sis" and e["unit"] != "vuxen-1"]
    assert all(d.get("legal_basis") == "lvu" for d in sis_children)  # SiS youth homes: LVU 12 §
    types = Counter(e["type"] for e in flow_events)
    assert 10 < types["decision.interrupted"] < 0.2 * types["decision.enforced"]
    assert 0 < types["decision.resumed"] < types["decision.interrupted"]
    assert types["decision.delay_reason"] > 0
    received = [e["data"] for e in flow_events if e["type"] == "application.received"]
    share = sum(1 for d in received if d.get("new_applicant")) / len(received)
    assert 0.25 < share < 0.45


def test_flow_figures_are_plausible_shares():
    """Öppna jämförelser's shares, from the replay of the flow stream: neither 0 nor 100 %."""
    from streams.core.kpis import Period
    from streams.core.replay import Replay

    replay = Replay()
    replay.add_lines(simulate(FLOW))
    as_of = replay.latest
    period = Period.of_dates(WINDOW_START.date(), END.date())
    units = replay.result(as_of, period)["units"][municipality_codes(1)[0]]
    intake = units["mottagning-1"]
    assert 0.8 < intake["protection_assessments_done_within_limit"] / intake["protection_assessments_done"] < 0.97
    assert 0.5 < intake["screenings_done_within_limit"] / intake["screenings_done"] < 0.85
    closed = sum(units[u]["child_investigations_closed"] for u in ("bou-1", "bou-2", "vald-1"))
    within = sum(units[u]["child_investigations_closed_within_limit"] for u in ("bou-1", "bou-2", "vald-1"))
    assert 0.6 < within / closed < 0.95
    assert units["vuxen-1"]["child_investigations_closed"] == 0 and units["vuxen-1"]["investigations_closed"] > 50
    assert intake["transfers_out"] > 100 and units["bou-1"]["transfers_in"] > 50
