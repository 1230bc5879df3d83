"""The worker's offset ledger: it never vouches for an offset whose message was not processed.

The property test drives the ledger the way the worker does, against a model of one Kafka
partition and a faulty fetcher that drops runs of messages (as Faust's fetch loop can around a
rebalance), goes back to earlier offsets (redelivery) and ignores some seeks. Whatever the
fetcher does, every offset below what the ledger would commit was processed, and once the
fetcher stops misbehaving everything gets processed.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.offsets import OffsetLedger, Verdict

TP = ("cases", 0)


def test_contiguous_offsets_advance_and_are_committed_once():
    ledger: OffsetLedger = OffsetLedger()
    ledger.start(TP, 5)
    assert ledger.to_commit() == {}
    assert [ledger.admit(TP, o) for o in (5, 6, 7)] == [Verdict.PROCESS] * 3
    assert ledger.to_commit() == {TP: 8}
    ledger.committed({TP: 8})
    assert ledger.to_commit() == {}


def test_a_redelivered_offset_is_processed_again_without_moving_the_ledger():
    ledger: OffsetLedger = OffsetLedger()
    ledger.start(TP, 10)
    assert ledger.admit(TP, 3) is Verdict.PROCESS
    assert ledger.expected(TP) == 10


def test_a_hole_is_reported_then_skipped_while_seeking_until_the_expected_offset_arrives():
    ledger: OffsetLedger = OffsetLedger()
    ledger.start(TP, 199)
    assert ledger.admit(TP, 2001) is Verdict.HOLE
    ledger.seeking(TP, now=100.0)
    assert ledger.admit(TP, 2002) is Verdict.SKIP
    assert ledger.to_commit() == {}
    assert ledger.seeks_due(100.5, every=1.0) == []
    assert ledger.seeks_due(101.0, every=1.0) == [TP]
    assert ledger.admit(TP, 199) is Verdict.PROCESS
    assert not ledger.is_seeking(TP)
    assert ledger.to_commit() == {TP: 200}


def test_a_real_hole_in_the_log_is_closed_and_the_ledger_continues_after_it():
    ledger: OffsetLedger = OffsetLedger()
    ledger.start(TP, 4)
    assert ledger.admit(TP, 9) is Verdict.HOLE
    ledger.absent_below(TP, 9)  # the broker: no record at 4..8
    assert ledger.admit(TP, 9) is Verdict.PROCESS
    assert ledger.expected(TP) == 10
    with pytest.raises(ValueError):
        ledger.absent_below(TP, 2)


def test_a_partition_waiting_below_its_fetch_position_is_stalled_after_a_while():
    ledger: OffsetLedger = OffsetLedger()
    ledger.start(TP, 7)
    assert not ledger.stalled(TP, 7, now=0.0, after=5.0)  # nothing fetched beyond: nothing owed
    assert not ledger.stalled(TP, 9, now=1.0, after=5.0)
    assert not ledger.stalled(TP, 9, now=5.9, after=5.0)
    assert ledger.stalled(TP, 9, now=6.0, after=5.0)
    ledger.admit(TP, 7)  # progress restarts the clock
    assert not ledger.stalled(TP, 9, now=7.0, after=5.0)
    assert not ledger.stalled(TP, 9, now=11.9, after=5.0)
    ledger.seeking(TP, now=12.0)  # a seek back under way is not a stall
    assert not ledger.stalled(TP, 9, now=30.0, after=5.0)


def test_forgotten_partitions_are_neither_known_nor_committed():
    ledger: OffsetLedger = OffsetLedger()
    ledger.start(TP, 0)
    ledger.admit(TP, 0)
    ledger.forget([TP])
    assert not ledger.knows(TP)
    assert ledger.to_commit() == {}
    ledger.committed({TP: 1})  # a commit answer for a partition gone meanwhile changes nothing
    assert not ledger.knows(TP)


# --- the model ------------------------------------------------------------------------------

def drive(log: list[int], committed: int, faults: list[tuple[str, int]]) -> tuple[set[int], int]:
    """Deliver ``log`` (the partition's existing offsets, ascending) through a fetcher that
    applies ``faults`` in turn (one per delivered message); returns (processed offsets, the
    offset the ledger would commit). Fault kinds: ``drop n`` skips n messages, ``back n``
    rewinds n messages, ``ignore_seek`` loses the next seek."""
    ledger: OffsetLedger = OffsetLedger()
    ledger.start(TP, committed)
    position = next((i for i, o in enumerate(log) if o >= committed), len(log))
    processed: set[int] = set()
    faults = list(faults)
    ignore_next_seek = False
    now = 0.0

    end = log[-1] + 1

    def seek_back() -> None:
        # what the worker does: ask the broker where the next record is, then seek there
        nonlocal position, ignore_next_seek
        ledger.absent_below(TP, next((o for o in log if o >= ledger.expected(TP)), end))
        ledger.seeking(TP, now)
        if ignore_next_seek:
            ignore_next_seek = False
            return
        position = next((i for i, o in enumerate(log) if o >= ledger.expected(TP)), len(log))

    for _step in range(40 * len(log) + 100):
        now += 0.25
        if ledger.seeks_due(now, every=1.0):
            seek_back()
        fetch_position = log[position] if position < len(log) else end
        if ledger.stalled(TP, fetch_position, now, after=2.0):
            seek_back()
        if position >= len(log):
            if ledger.expected(TP) >= end and not ledger.is_seeking(TP):
                break
            continue
        if faults:
            kind, n = faults.pop(0)
            if kind == "drop":
                position = min(len(log), position + n)
                continue
            if kind == "back":
                position = max(0, position - n)
            if kind == "ignore_seek":
                ignore_next_seek = True
        offset = log[position]
        position += 1
        verdict = ledger.admit(TP, offset)
        if verdict is Verdict.HOLE:
            ledger.absent_below(TP, next(o for o in log if o >= ledger.expected(TP)))
            verdict = ledger.admit(TP, offset)
            if verdict is Verdict.HOLE:
                seek_back()
        if verdict is Verdict.PROCESS:
            processed.add(offset)
        # invariant: whatever the ledger would commit now, everything below it was processed
        assert all(o in processed for o in log if committed <= o < ledger.expected(TP))
    return processed, ledger.expected(TP)


logs = st.lists(st.integers(0, 60), min_size=1, max_size=40, unique=True).map(sorted)
faults = st.lists(st.tuples(st.sampled_from(["drop", "back", "ignore_seek", "none"]), st.integers(1, 8)),
                  max_size=30)


@settings(max_examples=400, deadline=None)
@given(log=logs, faults=faults, committed_index=st.integers(0, 40))
def test_whatever_the_fetcher_drops_every_offset_is_processed_and_none_is_committed_early(log, faults, committed_index):
    committed = log[min(committed_index, len(log) - 1)]
    processed, commit_at = drive(log, committed, faults)
    wanted = {o for o in log if o >= committed}
    assert processed >= wanted
    assert commit_at == log[-1] + 1
