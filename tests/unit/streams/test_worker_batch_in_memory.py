"""The worker's batch logic in process: batches of a simulated stream, written to the
in-memory projection the way ``CaseWorker.process_batch`` writes Redis (no Kafka, no Redis)."""
from __future__ import annotations

from datetime import datetime

from services.simulator import SimulationSpec, simulate
from streams.case_state import Batch
from streams.contract.validate import Rejection, validate_line
from streams.core.kpis import Period, compute
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM
from streams.projection import PipelineHealth
from streams.projection_memory import MemoryProjection


def run_batches(lines: list[bytes], projection: MemoryProjection, table: dict[bytes, bytes], size: int) -> None:
    for start in range(0, len(lines), size):
        batch = Batch(table.get)
        for raw in lines[start:start + size]:
            outcome = validate_line(raw)
            if type(outcome) is Rejection:
                batch.reject(outcome)
            else:
                batch.add(outcome)
        for key, case in batch.cases.items():
            table[key] = case.to_bytes()
        projection.write_batch(list(batch.projections()),
                               PipelineHealth("w1", batch.outcomes(), dict(batch.rejected), batch.newest_ts, 0))


def test_batches_in_any_size_project_what_the_replay_computes():
    spec = SimulationSpec(municipalities=2, population=6000, months=2, seed=11,
                          end=datetime(2024, 5, 20, tzinfo=STOCKHOLM), invalid_rate=0.01)
    lines = list(simulate(spec))
    lines += lines[:200]  # redelivered: duplicates change nothing but the duplicate count
    replay = Replay()
    replay.add_lines(lines)
    expected = replay.result()
    period = Period.month_to_date(replay.latest)
    for size in (1, 64, 5000):
        projection, table = MemoryProjection(), {}
        run_batches(lines, projection, table, size)
        facts = [f for m in projection.municipalities() for f in projection.read_facts(m)]
        assert compute(facts, replay.latest, period) == expected["units"], size
        stats = projection.pipeline_stats()
        assert stats.events == {"accepted": expected["events"]["accepted"],
                                "duplicate": expected["events"]["duplicates"],
                                "rejected": expected["events"]["rejected"]}
        assert sum(stats.rejected.values()) == expected["events"]["rejected"]
        assert stats.newest_event_ts == replay.latest and stats.consumer_lag == 0


def test_reprojection_marker_does_not_survive_a_flush():
    projection = MemoryProjection()
    projection.begin_reprojection("run-1")
    assert projection.reprojection_intact("run-1")
    projection.flush()
    assert not projection.reprojection_intact("run-1")
    assert projection.incomplete([0, 1]) == [0, 1]
    projection.mark_complete([0])
    assert projection.incomplete([0, 1]) == [1]


def test_partitions_projected_by_a_contract_v1_worker_count_as_incomplete():
    """A v1 worker's facts lack links, interruptions and transfers: the v2 worker re-projects."""
    projection = MemoryProjection()
    projection.mark_complete([0, 1], facts_format=1)
    assert projection.incomplete([0, 1]) == [0, 1]
    projection.mark_complete([1])
    assert projection.incomplete([0, 1]) == [0]


def test_a_silent_worker_stops_counting_towards_the_lag():
    projection = MemoryProjection()
    projection.record_pipeline(PipelineHealth("a", {"accepted": 5}, {}, 100.0, 7))
    projection.record_pipeline(PipelineHealth("b", {"accepted": 3}, {"bad_value": 1}, 90.0, 4))
    projection.fields["heartbeat:a"] = "0.0"  # a has been silent since the epoch
    stats = projection.pipeline_stats()
    assert stats.consumer_lag == 4 and stats.events == {"accepted": 8} and stats.rejected == {"bad_value": 1}
    assert stats.newest_event_ts == 100.0
    projection.forget_worker("b")
    assert projection.pipeline_stats().consumer_lag is None
