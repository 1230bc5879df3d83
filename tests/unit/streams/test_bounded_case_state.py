"""Issue 13, a case's kept state bounded: compacted payments fold exactly as the replay folds,
in any order, with duplicates and stored/loaded at any point; the byte budget refuses the same
events in the worker's batches and in both replays; older stored formats still load."""
from __future__ import annotations

import random
import uuid
import zlib
from contextlib import ExitStack
from unittest import mock

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams import case_state
from streams.case_state import Batch, CaseState, table_key
from streams.contract.validate import Event, validate_line
from streams.core import case_budget
from streams.core.case_budget import CASE_TOO_LARGE, STATE_LIMIT, CaseBudget
from streams.core.facts import fold_case
from streams.core.packed_replay import PackedReplay
from streams.core.replay import Replay
from streams.core.timeutil import format_ts
from tests.unit.streams.test_properties import BASE, SPAN, case_events, instants, v2_case_events

AMOUNTS = st.sampled_from([0, 0.0, -0.0, 100, 100.0, 450.5, 4458, 7500.25, -120, 2 ** 60])


@st.composite
def payment_events(draw) -> dict:
    # few instants, so payments tie on the instant and the fold's payment order is tested
    at = draw(st.sampled_from([BASE, BASE + 3600, BASE + 86400 * 31]) | instants)
    return {"type": "payment.made", "occurred_at": format_ts(at), "municipality": "0138",
            "unit": draw(st.sampled_from(["eb-1", "eb-2", "bou-1"])), "case_id": draw(st.sampled_from(["c1", "c2"])),
            "data": {"amount_sek": draw(AMOUNTS)}}


@st.composite
def arrivals(draw):
    """``(event, line)`` in arrival order: distinct events, then copies (re-sent, some with another
    ``occurred_at`` under the same id: the first received counts) spread among them."""
    events = draw(st.lists(st.one_of(case_events(), v2_case_events(), payment_events(), payment_events()),
                           min_size=1, max_size=50))
    for i, e in enumerate(events):
        e["event_id"] = draw(st.sampled_from([f"e{i}", str(uuid.UUID(int=i + 1))]))
    order = list(events)
    for e in draw(st.lists(st.sampled_from(events), max_size=20)):
        copy = dict(e)
        if draw(st.booleans()):
            copy["occurred_at"] = format_ts(draw(instants))
        order.insert(draw(st.integers(0, len(order))), copy)
    out = []
    for e in order:
        line = orjson.dumps(e)
        event = validate_line(line)
        if type(event) is Event:
            out.append((event, line))
    return out


def first_received(events: list[Event]) -> dict[tuple, dict[str, tuple]]:
    cases: dict[tuple, dict[str, tuple]] = {}
    for e in events:
        cases.setdefault((e.municipality, e.case_id), {}).setdefault(
            e.event_id, (e.ts, e.code, e.event_id, e.unit, e.payload))
    return cases


def older_format(records: dict[str, tuple]) -> bytes:
    """A case as the worker stored it before payments were compacted ("z": every event whole)."""
    return b"z" + zlib.compress(orjson.dumps({i: [ts, code, unit, list(p)] for i, (ts, code, _i, unit, p)
                                              in records.items()}))


def stream(events: list[Event], stored_at: set[int], legacy_at: set[int]) -> dict[tuple, CaseState]:
    """The worker's path: add one by one, each case stored and loaded again after the given
    positions (in this format, or in the older one the case's events so far)."""
    states: dict[tuple, CaseState] = {}
    seen: dict[tuple, dict] = {}
    for n, e in enumerate(events):
        key = (e.municipality, e.case_id)
        state = states.setdefault(key, CaseState(*key))
        if state.add(e):
            seen.setdefault(key, {})[e.event_id] = (e.ts, e.code, e.event_id, e.unit, e.payload)
        if n in stored_at:
            states[key] = CaseState.from_bytes(*key, state.to_bytes())
        if n in legacy_at and key in seen:
            states[key] = CaseState.from_bytes(*key, older_format(seen[key]))
    return states


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals(), st.data())
def test_compacted_state_folds_exactly_as_the_replay_in_any_order(arrived, data):
    events = [e for e, _line in arrived]
    n = len(events)
    stored_at = set(data.draw(st.lists(st.integers(0, n), max_size=8)))
    legacy_at = set(data.draw(st.lists(st.integers(0, n), max_size=2)))
    states = stream(events, stored_at, legacy_at)
    reference = first_received(events)
    as_of = data.draw(st.integers(min_value=BASE - 86400, max_value=BASE + SPAN))
    for key, records in reference.items():
        state = states[key]
        assert state.fold() == fold_case(key[0], records.values())
        assert state.facts_json() == case_state.facts_to_json(fold_case(key[0], records.values()))
        assert state.fold(as_of) == fold_case(key[0], records.values(), as_of)
        assert len(state) == len(records) and state.holds_exactly(records)
        # the stored bytes: a function of the set of events (a re-applied case writes the same
        # facts), below the byte budget spent, and the budget is the replay's for the same events
        raw = state.to_bytes()
        assert CaseState.from_bytes(*key, raw) == state
        data_ = zlib.decompress(raw[1:])
        assert len(raw) <= len(data_) + 16 and len(data_) <= state.spent
        budget = CaseBudget()
        for ts, code, event_id, unit, payload in records.values():
            assert budget.admit(event_id, ts, code, unit, payload)
        assert budget.spent == state.spent


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals(), st.integers(min_value=case_budget.BASE_COST, max_value=1500), st.data())
def test_the_byte_budget_refuses_the_same_events_in_batches_and_in_both_replays(arrived, limit, data):
    events = [e for e, _line in arrived]
    lines = [line for _e, line in arrived]
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(case_budget, "STATE_LIMIT", limit))
        stack.enter_context(mock.patch.object(case_state, "STATE_LIMIT", limit))
        # the worker: batches of random sizes over a table of stored bytes
        table: dict[bytes, bytes] = {}
        refused = 0
        i = 0
        while i < len(events):
            size = data.draw(st.integers(1, 7))
            batch = Batch(table.get)
            for e in events[i:i + size]:
                _key, new = batch.add(e)
                refused += new is None
            for key, state in batch.cases.items():
                table[key] = state.to_bytes()
            i += size
        replay, packed = Replay(), PackedReplay()
        replay.add_lines(lines)
        packed.add_lines(lines)
        assert replay.rejected.get(CASE_TOO_LARGE, 0) == refused
        as_of = BASE + SPAN
        assert packed.result(as_of) == replay.result(as_of)
        for (municipality, case_id), records in replay.cases.items():
            stored = CaseState.from_bytes(municipality, case_id, table[table_key(municipality, case_id)])
            assert stored.holds_exactly(records)
            assert stored.fold() == fold_case(municipality, records.values())
            assert stored.spent == replay._budgets[municipality, case_id].spent
            assert stored.spent <= limit or len(stored) == 0


def test_a_case_of_200000_monthly_payments_stays_below_the_budget_and_refuses_the_rest():
    """Sequential and UUID ids alike: the state keeps payments up to the budget (about 33,000 of
    them, under 450 kB stored) and refuses the rest as ``case_too_large``; nothing past it is
    kept, nothing before it lost."""
    for uuids in (False, True):
        rnd = random.Random(3)
        state = CaseState("0138", "c1")
        kept = refused = 0
        replay = Replay()
        for i in range(200_000):
            event_id = str(uuid.UUID(int=rnd.getrandbits(128))) if uuids else f"pay-{i:07d}"
            e = Event(event_id, "payment.made", case_budget.PAYMENT, 946684800.0 + i * 3600, "0138", "eb-1", "c1",
                      (rnd.randint(400, 1500) * 10,))
            outcome = state.add(e)
            kept += outcome is True
            refused += outcome is None
            replay.add_event(e)
        raw = state.to_bytes()
        assert len(raw) < 450_000, len(raw)
        assert state.spent <= STATE_LIMIT
        assert kept == len(state) == (STATE_LIMIT - case_budget.BASE_COST - case_budget.unit_cost("eb-1")) // 27
        assert refused == 200_000 - kept == replay.rejected[CASE_TOO_LARGE]
        assert CaseState.from_bytes("0138", "c1", raw) == state
        assert state.fold() == fold_case("0138", replay.cases["0138", "c1"].values())


def test_old_stored_states_load_and_fold_the_same():
    """A deployed worker's RocksDB and changelog hold "z" (zlib JSON) and "{" (plain JSON)
    states: they load, fold to the same facts, and are written back in the compact format."""
    records = {}
    for i, (kind, payload) in enumerate([(case_budget.PAYMENT, (4500,)), (case_budget.PAYMENT, (120.5,)),
                                         (1, ("polis",))]):
        records[f"e{i}"] = (BASE + i * 60.0, kind, f"e{i}", "eb-1", payload)
    z = older_format(records)
    plain = zlib.decompress(z[1:])
    for raw in (z, plain):
        state = CaseState.from_bytes("0138", "c1", raw)
        assert state.fold() == fold_case("0138", records.values())
        assert len(state) == 3 and len(state.events) == 1  # the payments compacted on load
        assert state.to_bytes()[:1] == case_state.COMPACT
        assert not state.add(Event("e0", "payment.made", case_budget.PAYMENT, BASE + 1.0, "0138", "eb-1", "c1",
                                   (1,)))  # a re-sent compacted event: still a duplicate
