"""The Redis projection: what the worker writes and the exporter reads.

Keys (``{p}`` is the configured prefix):

- ``{p}:facts:{municipality}`` hash: ``case_id`` → the case's folded facts (JSON). Writing the
  whole folded value is idempotent: re-applying a case after a crash or a replay sets the same
  bytes. Time-dependent figures are not stored: the exporter reads facts at its scrape instant.
- ``{p}:version:{municipality}``: bumped with every write, so readers re-parse only what changed.
- ``{p}:municipalities`` set; ``{p}:complete:{partition}``: present once every case of that
  case-topic partition is projected. A worker that finds one of its partitions unmarked (Redis
  flushed or new) re-projects every case it holds; with several workers each answers for its
  own partitions. ``{p}:epoch``: the instant of the latest re-projection, for readers' caches.
- ``{p}:pipeline`` hash: counters and gauges of the worker (events by outcome, rejections by
  reason, consumer lag, newest event instant, heartbeat instant).
"""
from __future__ import annotations

import time
from typing import Iterable, Mapping

import redis

from streams.core.facts import CaseFacts, facts_from_json

OUTCOMES = ("accepted", "duplicate", "rejected")


class ProjectionStore:
    def __init__(self, client: redis.Redis, prefix: str = "cw") -> None:
        self.r = client
        self.p = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "cw") -> "ProjectionStore":
        return cls(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5), prefix)

    # --- writes (worker) ---------------------------------------------------------------------

    def write_cases(self, cases: Iterable[tuple[str, str, bytes]]) -> int:
        """Set the folded facts of many cases in one pipelined round trip."""
        pipe = self.r.pipeline(transaction=False)
        touched: set[str] = set()
        n = 0
        for municipality, case_id, facts_json in cases:
            pipe.hset(f"{self.p}:facts:{municipality}", case_id, facts_json)
            touched.add(municipality)
            n += 1
        if not n:
            return 0
        for municipality in touched:
            pipe.incr(f"{self.p}:version:{municipality}")
        pipe.sadd(f"{self.p}:municipalities", *touched)
        pipe.execute()
        return n

    def record_pipeline(self, outcomes: Mapping[str, int], rejected_by_reason: Mapping[str, int],
                        newest_event_ts: float | None = None, consumer_lag: int | None = None) -> None:
        pipe = self.r.pipeline(transaction=False)
        key = f"{self.p}:pipeline"
        for outcome, n in outcomes.items():
            if n:
                pipe.hincrby(key, f"events:{outcome}", n)
        for reason, n in rejected_by_reason.items():
            if n:
                pipe.hincrby(key, f"rejected:{reason}", n)
        if newest_event_ts is not None:
            # Only ever moves forward: HSET would let an older batch overwrite a newer instant.
            pipe.eval(_MAX_FIELD, 1, key, "newest_event_ts", repr(newest_event_ts))
        if consumer_lag is not None:
            pipe.hset(key, "consumer_lag", consumer_lag)
        pipe.hset(key, "heartbeat_ts", repr(time.time()))
        pipe.execute()

    def mark_complete(self, partitions: Iterable[int]) -> None:
        pipe = self.r.pipeline(transaction=False)
        for partition in partitions:
            pipe.set(f"{self.p}:complete:{partition}", 1)
        pipe.set(f"{self.p}:epoch", repr(time.time()))
        pipe.execute()

    def incomplete(self, partitions: Iterable[int]) -> list[int]:
        """The partitions among ``partitions`` whose cases are not (all) in the projection."""
        partitions = list(partitions)
        if not partitions:
            return []
        marks = self.r.mget([f"{self.p}:complete:{n}" for n in partitions])
        return [n for n, mark in zip(partitions, marks) if mark is None]

    # --- reads (exporter) --------------------------------------------------------------------

    def municipalities(self) -> list[str]:
        return sorted(m.decode() for m in self.r.smembers(f"{self.p}:municipalities"))

    def versions(self, municipalities: list[str]) -> dict[str, tuple[bytes | None, int]]:
        """Per municipality (epoch, write counter): a flushed and rebuilt projection has a new
        epoch, so a reader never mistakes a restarted counter for the one it cached."""
        if not municipalities:
            return {}
        epoch, *values = self.r.mget([f"{self.p}:epoch", *(f"{self.p}:version:{m}" for m in municipalities)])
        return {m: (epoch, int(v or 0)) for m, v in zip(municipalities, values)}

    def read_facts(self, municipality: str) -> list[CaseFacts]:
        raw = self.r.hgetall(f"{self.p}:facts:{municipality}")
        return [facts_from_json(v) for v in raw.values()]

    def pipeline_stats(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.r.hgetall(f"{self.p}:pipeline").items()}


# Lua: set a hash field to max(current, new) atomically.
_MAX_FIELD = """
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1e308')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
"""
