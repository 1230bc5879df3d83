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
- ``{p}:pipeline`` hash: counters and gauges of the workers (events by outcome, rejections by
  reason, newest event instant; per worker ``lag:{worker}`` and ``heartbeat:{worker}``, summed
  up by :meth:`ProjectionStore.pipeline_stats`).
"""
from __future__ import annotations

import time
from typing import Iterable, Mapping, NamedTuple

import redis

from streams.core.facts import CaseFacts, facts_from_json

OUTCOMES = ("accepted", "duplicate", "rejected")
WORKER_FRESH_S = 30.0  # a worker silent this long no longer counts towards the consumer lag


class ProjectionStore:
    def __init__(self, client: redis.Redis, prefix: str = "cw") -> None:
        self.r = client
        self.p = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "cw", password: str | None = None) -> "ProjectionStore":
        """``password``: the URL user's password kept outside the URL (``Settings.redis_secret()``);
        ``rediss://`` URLs speak TLS (``?ssl_ca_certs=`` names the CA)."""
        extra = {"password": password} if password is not None else {}
        return cls(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, **extra), prefix)

    # --- writes (worker) ---------------------------------------------------------------------

    def write_cases(self, cases: Iterable[tuple[str, str, bytes]]) -> int:
        """Set the folded facts of many cases in one pipelined round trip."""
        pipe = self.r.pipeline(transaction=False)
        n = self._queue_cases(pipe, cases)
        if n:
            pipe.execute()
        return n

    def write_batch(self, cases: Iterable[tuple[str, str, bytes]], health: "PipelineHealth") -> int:
        """A worker batch in one round trip: the cases' facts, then the pipeline health."""
        pipe = self.r.pipeline(transaction=False)
        n = self._queue_cases(pipe, cases)
        self._queue_health(pipe, health)
        pipe.execute()
        return n

    def record_pipeline(self, health: "PipelineHealth") -> None:
        """The pipeline health alone (a housekeeping tick, with no batch to go with it)."""
        pipe = self.r.pipeline(transaction=False)
        self._queue_health(pipe, health)
        pipe.execute()

    def forget_worker(self, worker: str) -> None:
        """A worker leaving cleanly takes its lag and heartbeat with it."""
        self.r.hdel(f"{self.p}:pipeline", f"lag:{worker}", f"heartbeat:{worker}")

    def _queue_cases(self, pipe: "redis.client.Pipeline", cases: Iterable[tuple[str, str, bytes]]) -> int:
        touched: set[str] = set()
        n = 0
        for municipality, case_id, facts_json in cases:
            pipe.hset(f"{self.p}:facts:{municipality}", case_id, facts_json)
            touched.add(municipality)
            n += 1
        if n:
            for municipality in touched:
                pipe.incr(f"{self.p}:version:{municipality}")
            pipe.sadd(f"{self.p}:municipalities", *touched)
        return n

    def _queue_health(self, pipe: "redis.client.Pipeline", health: "PipelineHealth") -> None:
        key = f"{self.p}:pipeline"
        for outcome, n in health.outcomes.items():
            if n:
                pipe.hincrby(key, f"events:{outcome}", n)
        for reason, n in health.rejected_by_reason.items():
            if n:
                pipe.hincrby(key, f"rejected:{reason}", n)
        if health.newest_event_ts is not None:
            # Only ever moves forward: HSET would let an older batch overwrite a newer instant.
            pipe.eval(_MAX_FIELD, 1, key, "newest_event_ts", repr(health.newest_event_ts))
        if health.consumer_lag is not None:
            pipe.hset(key, f"lag:{health.worker}", health.consumer_lag)
        pipe.hset(key, f"heartbeat:{health.worker}", repr(time.time()))

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

    def pipeline_stats(self, now: float | None = None) -> dict[str, str]:
        """The pipeline hash with the workers' own fields summed up: ``consumer_lag`` is the sum
        over workers alive in the last ``WORKER_FRESH_S`` (a vanished worker's partitions move
        to the others, which then report them), ``heartbeat_ts`` the latest of any worker."""
        now = time.time() if now is None else now
        raw = {k.decode(): v.decode() for k, v in self.r.hgetall(f"{self.p}:pipeline").items()}
        out = {k: v for k, v in raw.items() if not k.startswith(("lag:", "heartbeat:"))}
        beats = {k[len("heartbeat:"):]: float(v) for k, v in raw.items() if k.startswith("heartbeat:")}
        if beats:
            out["heartbeat_ts"] = repr(max(beats.values()))
            lags = [int(raw[f"lag:{w}"]) for w, t in beats.items() if now - t <= WORKER_FRESH_S and f"lag:{w}" in raw]
            if lags:
                out["consumer_lag"] = str(sum(lags))
        return out


class PipelineHealth(NamedTuple):
    """What one worker batch (or housekeeping tick) adds to the pipeline hash."""

    worker: str
    outcomes: Mapping[str, int]
    rejected_by_reason: Mapping[str, int]
    newest_event_ts: float | None = None
    consumer_lag: int | None = None


# Lua: set a hash field to max(current, new) atomically.
_MAX_FIELD = """
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1e308')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
"""
