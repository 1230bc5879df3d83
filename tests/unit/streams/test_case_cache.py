"""The worker's cache of decoded case states: it holds only what the table holds, it is bounded,
and batches reading through it fold exactly what batches reading the table fold."""
from __future__ import annotations

import random
from datetime import datetime

from services.simulator import SimulationSpec, simulate
from streams.case_cache import CaseCache
from streams.case_state import Batch, CaseState, table_key
from streams.contract.validate import Event, Rejection, validate_line
from streams.core.facts import facts_from_json
from streams.core.kpis import Period, compute
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM
from tests.events import ev, line


def _lines(seed: int) -> list[bytes]:
    spec = SimulationSpec(municipalities=2, population=8000, months=2, seed=seed,
                          end=datetime(2024, 5, 20, tzinfo=STOCKHOLM), invalid_rate=0.01)
    return list(simulate(spec))


def _event(e: dict) -> Event:
    out = validate_line(line(e))
    assert type(out) is Event, out
    return out


def _run(lines: list[bytes], cache: CaseCache | None, size: int, fail_every: int = 0):
    """The worker's batch loop over ``lines``: a failing batch writes nothing and puts nothing
    back, and its lines come again (as after a rewind to the committed offsets)."""
    table: dict[bytes, bytes] = {}
    projection: dict[tuple[str, str], bytes] = {}
    loads = 0

    def load(key: bytes):
        nonlocal loads
        loads += 1
        return table.get(key)

    start = n = 0
    while start < len(lines):
        n += 1
        generation = cache.generation if cache is not None else 0
        batch = Batch(load, cache)
        for raw in lines[start:start + size]:
            out = validate_line(raw)
            if type(out) is not Rejection:
                batch.add(out)
        if fail_every and n % fail_every == 0:
            continue  # failed before its table write: read again from the same offsets
        for key, case in batch.cases.items():
            table[key] = case.to_bytes()
        for m, c, facts_json in batch.projections():
            projection[(m, c)] = facts_json
        if cache is not None:
            cache.put_all(batch.cases.items(), generation)
        start += size
    return table, projection, loads


def test_the_stored_encoding_is_lossless_so_a_cached_case_folds_as_the_stored_one():
    """The cache keeps the state a batch encoded; it may only stand in for the stored bytes if
    decoding them gives that state back. An encoding that drops or changes anything (say a
    compaction) fails here, and the cache must then keep the decoded bytes instead."""
    replay = Replay()
    lines = _lines(3)
    replay.add_lines(lines)
    batch = Batch(lambda key: None)
    for raw in lines:
        out = validate_line(raw)
        if type(out) is not Rejection:
            batch.add(out)
    assert batch.cases
    for case in batch.cases.values():
        back = CaseState.from_bytes(case.municipality, case.case_id, case.to_bytes())
        assert back == case and back.facts_json() == case.facts_json()


def test_batches_through_the_cache_fold_what_the_table_alone_folds_and_what_replay_computes():
    lines = _lines(7)
    lines += lines[:300]  # redelivered
    replay = Replay()
    replay.add_lines(lines)
    expected = replay.result()
    period = Period.month_to_date(replay.latest)
    table, projection, loads_plain = _run(lines, None, 97)
    for max_events in (50, 100_000):  # evicting constantly, and holding everything
        cache = CaseCache(max_events)
        cached_table, cached_projection, loads = _run(lines, cache, 97)
        assert cached_projection == projection and cached_table == table
        assert cache.events <= max_events and cache.hits > 0
        assert loads < loads_plain
    got = compute((facts_from_json(j) for j in cached_projection.values()), replay.latest, period)
    assert got == expected["units"]


def test_a_failed_batch_leaves_its_cases_out_of_the_cache_and_nothing_is_lost():
    lines = _lines(11)
    _table, projection, _ = _run(lines, None, 50)
    cache = CaseCache(100_000)
    _cached_table, cached_projection, _ = _run(lines, cache, 50, fail_every=3)
    assert cached_projection == projection


def test_take_removes_the_case_and_put_back_replaces_it():
    cache = CaseCache(100)
    case = CaseState("0138", "c1")
    case.add(_event(ev("report.received", "2024-03-01T09:00:00+01:00", case="c1", reporter="skola")))
    key = table_key("0138", "c1")
    cache.put_all([(key, case)], cache.generation)
    assert cache.take(key) is case and key not in cache and cache.events == 0
    assert cache.take(key) is None  # a batch that then fails never puts it back: read from the table


def test_a_batch_older_than_a_clear_puts_nothing_back():
    """A rebalance (clear) while a batch runs: its partitions may be recovered anew."""
    cache = CaseCache(100)
    generation = cache.generation
    cache.clear()
    cache.put_all([(b"0138/c1", CaseState("0138", "c1"))], generation)
    assert len(cache) == 0
    cache.put_all([(b"0138/c1", CaseState("0138", "c1"))], cache.generation)
    assert len(cache) == 1


def test_the_bound_counts_events_and_evicts_the_least_recently_written():
    rng = random.Random(5)
    cache = CaseCache(10)
    cases = []
    for i in range(6):
        case = CaseState("0138", f"c{i}")
        for j in range(rng.randint(1, 4)):
            case.events[f"e{i}-{j}"] = [0.0, "report.received", "u", []]
        cases.append((table_key("0138", f"c{i}"), case))
    cache.put_all(cases, cache.generation)
    assert cache.events <= 10 and cache.events == sum(len(c) for k, c in cases if k in cache)
    kept = [k for k, _ in cases if k in cache]
    assert kept == [k for k, _ in cases][-len(kept):]  # the newest kept, the oldest out
    big = CaseState("0138", "big")
    big.events.update({f"b{j}": [0.0, "report.received", "u", []] for j in range(11)})
    cache.put_all([(b"0138/big", big)], cache.generation)
    assert b"0138/big" not in cache  # larger than the whole bound: never held
    assert CaseCache(0).take(b"x") is None


def test_a_key_put_again_counts_only_its_newer_state():
    """The bound counts each cached state by its own len(): a key written again by a later
    batch (a new state object, with more events) replaces the older count, never adds to it."""
    cache = CaseCache(10)
    key = table_key("0138", "c1")
    older = CaseState("0138", "c1")
    older.events.update({f"e{j}": [0.0, "report.received", "u", []] for j in range(3)})
    cache.put_all([(key, older)], cache.generation)
    newer = CaseState("0138", "c1")
    newer.events.update({f"e{j}": [0.0, "report.received", "u", []] for j in range(5)})
    cache.put_all([(key, newer)], cache.generation)
    assert len(cache) == 1 and cache.events == 5
    assert cache.take(key) is newer and cache.events == 0
