"""The replay the IVO report, the board snapshot, the backtest and the demo read
(:func:`streams.core.replay.fast_replay`, the compiled validator) holds what the reference
:class:`Replay` holds for the same lines: every case's event set, the counts by outcome and
reason, the figures and the IVO report, spoiled lines, duplicates and a unit registry included."""
from __future__ import annotations

from datetime import datetime

import pytest

from services.ivo.quarter import report_from_replay
from services.simulator import SimulationSpec, simulate
from streams.contract.fast_validate import validate_line_fast
from streams.core.ivo import Quarter
from streams.core.kpis import Period
from streams.core.replay import Replay, fast_replay
from streams.core.timeutil import STOCKHOLM
from tests.events import ev, line

END = datetime(2024, 11, 20, 16, tzinfo=STOCKHOLM)


def _lines(seed: int) -> list[bytes]:
    spec = SimulationSpec(municipalities=2, population=8_000, months=7, seed=seed, end=END, invalid_rate=0.03,
                          duplicate_rate=0.05)
    return list(simulate(spec))


def _held(replay: Replay) -> tuple:
    # repr tells 1 from 1.0 and 0.0 from -0.0 in payloads, which == does not
    return (repr(replay.cases), replay.accepted, replay.duplicates, dict(replay.rejected), replay.latest)


@pytest.mark.parametrize("seed", [3, 17])
def test_the_fast_replay_holds_and_computes_what_the_reference_does(seed):
    lines = _lines(seed)
    # a few lines the simulator does not write: str lines, odd spacing, a personal id, blank layout
    extra = [line(ev("report.received", "2024-03-01T10:00:00+01:00", case="x1", reporter="skola")).decode(),
             b'{"event_id": "x2" , "type":"report.received","occurred_at":"2024-03-02T10:00:00Z",'
             b'"municipality":"0138","unit":"bou-1","case_id":"x2","data":{"reporter":"polis"}}',
             line(ev("report.received", "2024-03-03T10:00:00+01:00", case="x3", reporter="skola",
                     note="19121212-1212")),
             b"\n", b"{not json"]
    lines = lines + extra
    whole = Replay()
    whole.add_lines(lines)
    units = whole.result()["units"]
    bou = frozenset((m, u) for m, by_unit in units.items() for u in by_unit if u.startswith("bou"))
    assert bou and len(bou) < sum(map(len, units.values()))  # the registry leaves some units out
    registries = (None, bou)
    for registry in registries:
        reference, fast = Replay(registry=registry), fast_replay(registry=registry)
        assert fast.validate is validate_line_fast and reference.validate is not validate_line_fast
        reference.add_lines(lines)
        fast.add_lines(lines)
        assert _held(fast) == _held(reference)
        assert fast.rejected and fast.duplicates  # the file exercises both
        for as_of in (reference.latest, reference.latest - 40 * 86400):
            period = Period.month_to_date(as_of)
            assert fast.result(as_of, period) == reference.result(as_of, period)
        quarter = Quarter(2024, 3)
        ivo = report_from_replay(reference, quarter).as_json()
        assert ivo["decisions"] and report_from_replay(fast, quarter).as_json() == ivo


def test_add_line_answers_as_the_reference_one_line_at_a_time():
    lines = _lines(5)[:3000]
    reference, fast = Replay(), fast_replay()
    for raw in lines:
        assert repr(fast.add_line(raw)) == repr(reference.add_line(raw))
    assert _held(fast) == _held(reference)
