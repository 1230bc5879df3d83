"""The investigation link window (CONTRACT.md §3, ``Clocks.link_window``) is the same wherever
a case is folded: the worker's case state (what it projects to Redis, which the exporter reads)
and the offline replay behind `casewatch replay`, the board snapshot and the IVO report. It is
not a setting: making it one needs the worker's CaseState to fold with configured clocks, and a
changed window to re-project Redis. Until then every path folds with the one default, which this
pins at the window's exact edge."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from streams.case_state import CaseState
from streams.contract.validate import Event, validate_line
from streams.core.clocks import DEFAULT_CLOCKS, Duration
from streams.core.facts import facts_from_json
from streams.core.replay import Replay
from tests.events import ev, line

CLOSED = datetime.fromisoformat("2024-02-01T10:00:00+01:00")


def _events(gap: timedelta) -> list[dict]:
    return [ev("investigation.opened", "2024-01-10T10:00:00+01:00", case="c1", area="barn_unga"),
            ev("investigation.closed", CLOSED.isoformat(), case="c1", outcome="no_action"),
            ev("investigation.opened", (CLOSED + gap).isoformat(), case="c1", area="barn_unga")]


def _linked(facts) -> list[bool]:
    return [item.linked for item in facts.investigations]


@pytest.mark.parametrize(("gap", "linked"), [(timedelta(days=14), True),
                                             (timedelta(days=14, seconds=1), False)])
def test_worker_and_replay_link_at_the_same_edge(gap, linked):
    assert DEFAULT_CLOCKS.link_window == Duration(14, "days")
    events = _events(gap)
    state = CaseState("0138", "c1")
    for raw in events:
        event = validate_line(line(raw))
        assert isinstance(event, Event)
        state.add(event)
    worker = facts_from_json(state.facts_json())  # what the exporter reads from Redis
    replay = Replay()
    replay.add_lines(line(e) for e in events)
    (offline,) = list(replay.facts())
    assert _linked(worker) == _linked(offline) == [False, linked]
    assert replay.clocks.link_window == DEFAULT_CLOCKS.link_window
