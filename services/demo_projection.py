"""The demo's facts source: the in-memory projection filled once from a replay."""
from __future__ import annotations

import time

from streams.core.facts import facts_to_json
from streams.core.replay import Replay
from streams.projection import PipelineHealth, PipelineStats
from streams.projection_memory import MemoryProjection


class DemoProjection(MemoryProjection):
    """The in-memory projection filled once from a replay; the demo has no worker, so its
    pipeline health is the replay's outcome and its heartbeat is always now."""

    def __init__(self, replay: Replay) -> None:
        super().__init__()
        self.write_cases((municipality, case_id, facts_to_json(facts))
                         for (municipality, case_id), facts in zip(replay.cases, replay.facts()))
        self.mark_complete(())
        self.record_pipeline(PipelineHealth(
            "demo", {"accepted": replay.accepted, "duplicate": replay.duplicates,
                     "rejected": sum(replay.rejected.values())},
            dict(replay.rejected), replay.latest, 0))

    def pipeline_stats(self, now: float | None = None) -> PipelineStats:
        self.fields["heartbeat:demo"] = repr(time.time())
        return super().pipeline_stats(now)
