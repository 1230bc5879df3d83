"""The investigation link window (CONTRACT.md §3, ``Clocks.link_window``) is the same wherever
a case is folded: the worker's case state (what it projects to Redis, which the exporter reads)
and the offline replay behind `casewatch replay`, the board snapshot and the IVO report. It is
the setting ``investigation_link_window_days`` (default: the contract's 14 days); every path
folds with ``Settings.clocks()``, so a changed window moves the figures of both alike."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from streams.case_state import CaseState
from streams.contract.validate import Event, validate_line
from streams.case_state import Batch
from streams.core.clocks import CONTRACT_LINK_WINDOW_DAYS, DEFAULT_CLOCKS, Duration
from streams.core.facts import facts_from_json
from streams.core.kpis import Period, compute
from streams.core.replay import Replay
from streams.settings import Settings
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


# Two cases: c1 reopened 20 days after a no_action close, c2 after 25 days. At AS_OF the first
# episode's 4-month clock (from 10 January) has run out, the reopened episodes' own have not.
AS_OF = "2024-06-01T12:00:00+02:00"


def _reopened(case: str, gap_days: int) -> list[dict]:
    return [ev("investigation.opened", "2024-01-10T10:00:00+01:00", case=case, area="barn_unga"),
            ev("investigation.closed", CLOSED.isoformat(), case=case, outcome="no_action"),
            ev("investigation.opened", (CLOSED + timedelta(days=gap_days)).isoformat(), case=case,
               area="barn_unga")]


def _worker_figures(events: list[dict], settings: Settings, as_of: float, period: Period) -> dict:
    """What the exporter computes from what the worker's batch projects with these settings."""
    batch = Batch(lambda key: None, clocks=settings.clocks())
    for raw in events:
        event = validate_line(line(raw))
        assert isinstance(event, Event)
        batch.add(event)
    facts = [facts_from_json(raw) for _m, _c, raw in batch.projections()]
    return compute(facts, as_of, period)


def _replay_figures(events: list[dict], settings: Settings, as_of: float, period: Period, tmp_path) -> dict:
    """What `casewatch replay` prints with these settings (its packed replay)."""
    from services.commands.replay import replay_file

    path = tmp_path / f"events-{settings.investigation_link_window_days}.jsonl"
    path.write_bytes(b"\n".join(line(e) for e in events) + b"\n")
    return replay_file(path, as_of, period, None, settings.clocks())["units"]


def test_the_window_is_the_contracts_14_days_unless_configured(monkeypatch):
    monkeypatch.delenv("CASEWATCH_INVESTIGATION_LINK_WINDOW_DAYS", raising=False)
    monkeypatch.delenv("CASEWATCH_CONFIG_FILE", raising=False)
    assert Settings().investigation_link_window_days == CONTRACT_LINK_WINDOW_DAYS == 14
    assert Settings().clocks() is DEFAULT_CLOCKS
    monkeypatch.setenv("CASEWATCH_INVESTIGATION_LINK_WINDOW_DAYS", "21")
    assert Settings().clocks().link_window == Duration(21, "days")
    assert Settings().clocks().investigation == DEFAULT_CLOCKS.investigation  # the rest unchanged
    for bad in ("-1", "367", "two weeks"):
        monkeypatch.setenv("CASEWATCH_INVESTIGATION_LINK_WINDOW_DAYS", bad)
        with pytest.raises(ValueError, match="investigation_link_window_days"):
            Settings()


def test_a_changed_window_changes_the_figures_of_worker_and_replay_alike(tmp_path):
    from streams.contract.validate import parse_instant

    events = _reopened("c1", 20) + _reopened("c2", 25)
    as_of = parse_instant(AS_OF)
    period = Period.month_to_date(as_of)
    figures = {}
    for days in (14, 21, 30):
        settings = Settings(investigation_link_window_days=days)
        worker = _worker_figures(events, settings, as_of, period)
        offline = _replay_figures(events, settings, as_of, period, tmp_path)
        assert worker == offline, days
        reference = Replay(settings.clocks())
        reference.add_lines(line(e) for e in events)
        assert reference.result(as_of, period)["units"] == offline, days
        unit = offline["0138"]["bou-1"]
        figures[days] = (unit["investigations_linked_open"], unit["investigations_overdue"])
    # 14 days: neither reopening continues the old clock; 21: c1 does, and so is overdue on
    # its first opening's clock; 30: both.
    assert figures == {14: (0, 0), 21: (1, 1), 30: (2, 2)}
