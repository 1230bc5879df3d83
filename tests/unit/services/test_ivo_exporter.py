"""The exporter's early warning for the IVO list: `casewatch_ivo_due_this_quarter{kind}` per unit,
the core's `due_this_quarter` on the hand-worked quarters."""
from __future__ import annotations

from prometheus_client import generate_latest

from tests.unit.services.test_exporter_collector import MemorySource, collector_for, replayed
from tests.unit.services.test_ivo_quarters import EVENTS


def _due(as_of: str) -> dict:
    registry, _ = collector_for(MemorySource(_facts(replayed(EVENTS))), as_of=as_of)
    out = {}
    for text in generate_latest(registry).decode().splitlines():
        if text.startswith("casewatch_ivo_due_this_quarter{"):
            labels, value = text.rsplit(" ", 1)
            out[labels] = float(value)
    return out


def _facts(replay):
    from streams.core.facts import fold_case

    return [fold_case(mun, records.values()) for (mun, _case), records in replay.cases.items()]


def test_the_metric_names_what_becomes_reportable_before_the_quarter_ends():
    may = _due("2024-05-01T12:00:00+02:00")
    assert may['casewatch_ivo_due_this_quarter{kind="decision",municipality="0138",unit="bou-1"}'] == 1.0
    assert may['casewatch_ivo_due_this_quarter{kind="interruption",municipality="0138",unit="bou-1"}'] == 0.0
    july = _due("2024-07-01T12:00:00+02:00")
    assert july['casewatch_ivo_due_this_quarter{kind="interruption",municipality="0138",unit="bou-1"}'] == 1.0
