"""The workers' pipeline health: what each batch adds to the projection's pipeline hash, and
the summed view a reader gets back (:class:`PipelineStats`)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple

OUTCOMES = ("accepted", "duplicate", "rejected")
WORKER_FRESH_S = 30.0  # a worker silent this long no longer counts towards the consumer lag


class PipelineHealth(NamedTuple):
    """What one worker batch (or housekeeping tick) adds to the pipeline hash."""

    worker: str
    outcomes: Mapping[str, int]
    rejected_by_reason: Mapping[str, int]
    newest_event_ts: float | None = None
    consumer_lag: int | None = None
    # A fenced batch's exact counting (streams/projection_fencing.py): partition -> the batch's
    # highest offset, and (partition, offset, field, ...) per duplicate or rejected record.
    # Given, these replace ``outcomes``/``rejected_by_reason`` as what is added.
    offsets: Mapping[int, int] | None = None
    tallies: tuple[tuple, ...] = ()


def tally_fields(outcome: str, reason: str | None = None) -> tuple[str, ...]:
    """The pipeline hash fields one duplicate or rejected record adds one to."""
    return (f"events:{outcome}",) if reason is None else (f"events:{outcome}", f"rejected:{reason}")


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """The workers' pipeline health as one reader sees it (summed over workers)."""

    events: Mapping[str, int] = field(default_factory=dict)  # outcome -> count
    rejected: Mapping[str, int] = field(default_factory=dict)  # reason -> count
    newest_event_ts: float | None = None
    consumer_lag: int | None = None  # summed over the workers alive
    heartbeat_ts: float | None = None  # the latest heartbeat of any worker

    @classmethod
    def from_fields(cls, fields: Mapping[str, str], now: float | None = None) -> "PipelineStats":
        """Parse the pipeline hash (``events:{outcome}``, ``rejected:{reason}``, per-worker
        ``lag:{worker}`` / ``heartbeat:{worker}``, or already summed ``consumer_lag`` /
        ``heartbeat_ts``). ``consumer_lag`` sums the workers heard from in the last
        ``WORKER_FRESH_S`` (a vanished worker's partitions move to the others)."""
        now = time.time() if now is None else now
        events: dict[str, int] = {}
        rejected: dict[str, int] = {}
        beats: dict[str, float] = {}
        lags: dict[str, int] = {}
        newest = lag = heartbeat = None
        for name, value in fields.items():
            kind, _, rest = name.partition(":")
            if kind == "events" and rest:
                events[rest] = int(float(value))
            elif kind == "rejected" and rest:
                rejected[rest] = int(float(value))
            elif kind == "heartbeat" and rest:
                beats[rest] = float(value)
            elif kind == "lag" and rest:
                lags[rest] = int(float(value))
            elif name == "newest_event_ts":
                newest = float(value)
            elif name == "consumer_lag":
                lag = int(float(value))
            elif name == "heartbeat_ts":
                heartbeat = float(value)
        if beats:
            heartbeat = max(beats.values())
            alive = [lags[w] for w, t in beats.items() if now - t <= WORKER_FRESH_S and w in lags]
            lag = sum(alive) if alive else None
        return cls(events, rejected, newest, lag, heartbeat)



def health_fields(health: PipelineHealth) -> tuple[dict[str, int], dict[str, str]]:
    """The pipeline hash's increments and plain fields for one batch or tick."""
    incr = {f"events:{k}": n for k, n in health.outcomes.items() if n}
    incr.update({f"rejected:{k}": n for k, n in health.rejected_by_reason.items() if n})
    fields = {f"heartbeat:{health.worker}": repr(time.time())}
    if health.consumer_lag is not None:
        fields[f"lag:{health.worker}"] = str(health.consumer_lag)
    return incr, fields



# Lua: set a hash field to max(current, new) atomically.
MAX_FIELD = """
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1e308')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
"""
