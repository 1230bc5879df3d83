"""The projection: what the worker writes and the exporter reads. This module alone knows its keys.

:class:`Projection` is the interface; :class:`RedisProjection` the real one and
:class:`streams.projection_memory.MemoryProjection` the same behaviour in a dict (demo, fast
tests). The pipeline-health types live in :mod:`streams.pipeline_health` (re-exported here).

Keys (``{p}`` is the configured prefix):

- ``{p}:facts:{municipality}`` hash: ``case_id`` → the case's folded facts (JSON). Writing the
  whole folded value is idempotent: re-applying a case after a crash or a replay sets the same
  bytes. Time-dependent figures are not stored: the exporter reads facts at its scrape instant.
- ``{p}:version:{municipality}``: bumped with every write, so readers re-parse only what changed.
- ``{p}:municipalities`` set; ``{p}:complete:{partition}``: :data:`FACTS_FORMAT` once every case
  of that case-topic partition is projected in that format. A worker that finds one of its
  partitions unmarked (Redis flushed or new) or marked by an older worker (``1``: facts of
  contract v1, without links, interruptions or transfers) re-projects every case it holds; with several workers each answers for its
  own partitions. ``{p}:epoch``: the instant of the latest re-projection, for readers' caches.
- ``{p}:pipeline`` hash: counters and gauges of the workers (events by outcome, rejections by
  reason, newest event instant; per worker ``lag:{worker}`` and ``heartbeat:{worker}``, summed
  up by ``pipeline_stats`` into a typed :class:`PipelineStats`).
- ``{p}:reprojecting:{token}``: one re-projection run's marker (see :meth:`Projection.begin_reprojection`).
- ``{p}:fence:{partition}``, ``{p}:count:{municipality}``, ``{p}:written:{partition}``: the
  guards of the worker's fenced writes (:mod:`streams.projection_fencing`).
- ``{p}:exporter:{municipality}``: the exporter's computed samples of that municipality with the
  version they were computed from, so that a restarted exporter need not parse every case
  (written and read by the exporter alone, see :mod:`services.exporter.snapshot`).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Hashable, Iterable, Mapping, NamedTuple, Protocol

from streams.core.facts import CaseFacts, facts_from_json
from streams.pipeline_health import (MAX_FIELD, OUTCOMES, WORKER_FRESH_S, PipelineHealth, PipelineStats,
                                     health_fields, tally_fields)
from streams.projection_fencing import FENCED_WRITE, CaseWrite, fenced_args

__all__ = ["FACTS_FORMAT", "OUTCOMES", "WORKER_FRESH_S", "Case", "FencedOutcome", "PipelineHealth", "PipelineStats",
           "Projection", "RedisProjection", "tally_fields"]

if TYPE_CHECKING:  # redis is imported by RedisProjection.from_url, not at module load
    import redis

# The facts' format the complete marks vouch for: 1 = contract v1 (written as "1" by the old
# worker), 2 = contract v2. Bump it when fold_case's output changes meaning, so that every worker
# re-projects its cases from its own table at the next housekeeping tick.
FACTS_FORMAT = 2
_FORMAT_MARK = str(FACTS_FORMAT).encode()
REPROJECTION_MARK_TTL_S = 3600  # a worker killed mid-run leaves no marker behind for good

Case = tuple[str, str, bytes]  # (municipality, case_id, folded facts JSON)


class FencedOutcome(NamedTuple):
    """What a fenced write did: ``lost`` names the partitions another writer (a later group
    generation) holds now, and then nothing at all was written."""

    lost: tuple[int, ...] = ()
    written: int = 0
    skipped: int = 0  # cases whose stored state holds more events than the write's


def _counted_elsewhere(incr: dict[str, int], health: PipelineHealth | None) -> dict[str, int]:
    """What a fenced write adds by increment: accepted events never (``{p}:accepted`` follows the
    stored case counts), duplicates and rejections not when the batch's offsets say which
    records to count (then they are tallies above the counted offset)."""
    exact = health is not None and health.offsets is not None
    return {k: n for k, n in incr.items()
            if k != "events:accepted" and not (exact and (k.startswith("rejected:") or k.startswith("events:")))}


class Projection(Protocol):
    """Writes (worker), re-projection markers, and reads (exporter) of the projection."""

    def write_cases(self, cases: Iterable[Case]) -> int: ...
    def write_batch(self, cases: Iterable[Case], health: PipelineHealth) -> int: ...
    def write_fenced(self, cases: Iterable[CaseWrite], health: PipelineHealth | None, fences: Mapping[int, int],
                     marks: Mapping[int, str], new_epoch: bool = False,
                     previous: Mapping[int, str] | None = None) -> FencedOutcome: ...
    def written_marks(self, partitions: Iterable[int]) -> dict[int, str | None]: ...
    def record_pipeline(self, health: PipelineHealth) -> None: ...
    def forget_worker(self, worker: str) -> None: ...
    def mark_complete(self, partitions: Iterable[int]) -> None: ...
    def incomplete(self, partitions: Iterable[int]) -> list[int]: ...
    def begin_reprojection(self, token: str) -> None: ...
    def reprojection_intact(self, token: str) -> bool: ...
    def end_reprojection(self, token: str) -> None: ...
    def municipalities(self) -> list[str]: ...
    def versions(self, municipalities: list[str]) -> dict[str, Hashable]: ...
    def read_facts(self, municipality: str) -> list[CaseFacts]: ...
    def read_facts_raw(self, municipality: str) -> dict[bytes, bytes]: ...
    def pipeline_stats(self, now: float | None = None) -> PipelineStats: ...
    def read_exporter_snapshots(self, municipalities: list[str]) -> dict[str, bytes | None]: ...
    def write_exporter_snapshots(self, documents: Mapping[str, bytes]) -> None: ...


class RedisProjection:
    """The projection in Redis (keys in the module doc)."""

    def __init__(self, client: "redis.Redis", prefix: str = "cw") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "cw", password: str | None = None) -> "RedisProjection":
        """``password``: the URL user's password kept outside the URL (``Settings.redis_secret()``);
        ``rediss://`` URLs speak TLS (``?ssl_ca_certs=`` names the CA)."""
        import redis

        extra = {"password": password} if password is not None else {}
        return cls(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, **extra), prefix)

    def ping(self) -> None:
        self.client.ping()

    def close(self) -> None:
        self.client.close()

    # --- keys -----------------------------------------------------------------------------------

    def _facts_key(self, municipality: str) -> str:
        return f"{self.prefix}:facts:{municipality}"

    def _version_key(self, municipality: str) -> str:
        return f"{self.prefix}:version:{municipality}"

    @property
    def _pipeline_key(self) -> str:
        return f"{self.prefix}:pipeline"

    def _reprojection_key(self, token: str) -> str:
        return f"{self.prefix}:reprojecting:{token}"

    # --- writes (worker) ---------------------------------------------------------------------

    def write_cases(self, cases: Iterable[Case]) -> int:
        """Set the folded facts of many cases in one pipelined round trip."""
        pipe = self.client.pipeline(transaction=False)
        n = self._queue_cases(pipe, cases)
        if n:
            pipe.execute()
        return n

    def write_batch(self, cases: Iterable[Case], health: PipelineHealth) -> int:
        """A worker batch in one round trip: the cases' facts, then the pipeline health."""
        pipe = self.client.pipeline(transaction=False)
        n = self._queue_cases(pipe, cases)
        self._queue_health(pipe, health)
        pipe.execute()
        return n

    def write_fenced(self, cases: Iterable[CaseWrite], health: PipelineHealth | None, fences: Mapping[int, int],
                     marks: Mapping[int, str], new_epoch: bool = False,
                     previous: Mapping[int, str] | None = None) -> FencedOutcome:
        """The worker's write: cases, write marks and pipeline health in one atomic script,
        refused as a whole when a later generation holds one of ``fences``' partitions (see
        :mod:`streams.projection_fencing`)."""
        incr, fields = health_fields(health) if health is not None else ({}, {})
        incr = _counted_elsewhere(incr, health)
        newest = health.newest_event_ts if health is not None else None
        args = fenced_args(self.prefix, cases, fences, marks, incr, newest, fields,
                           repr(time.time()) if new_epoch else None, previous,
                           health.offsets if health is not None else None,
                           health.tallies if health is not None else ())
        ok, detail = self._fenced_script(args=args)
        if not ok:
            return FencedOutcome(lost=tuple(int(p) for p in detail))
        return FencedOutcome((), int(detail[0]), int(detail[1]))

    @property
    def _fenced_script(self):
        script = getattr(self, "_fenced", None)
        if script is None:
            script = self._fenced = self.client.register_script(FENCED_WRITE)
        return script

    def written_marks(self, partitions: Iterable[int]) -> dict[int, str | None]:
        partitions = list(partitions)
        if not partitions:
            return {}
        values = self.client.mget([f"{self.prefix}:written:{n}" for n in partitions])
        return {n: (v.decode() if v is not None else None) for n, v in zip(partitions, values)}

    def record_pipeline(self, health: PipelineHealth) -> None:
        """The pipeline health alone (a housekeeping tick, with no batch to go with it)."""
        pipe = self.client.pipeline(transaction=False)
        self._queue_health(pipe, health)
        pipe.execute()

    def forget_worker(self, worker: str) -> None:
        """A worker leaving cleanly takes its lag and heartbeat with it."""
        self.client.hdel(self._pipeline_key, f"lag:{worker}", f"heartbeat:{worker}")

    def _queue_cases(self, pipe, cases: Iterable[Case]) -> int:
        touched: set[str] = set()
        n = 0
        for municipality, case_id, facts_json in cases:
            pipe.hset(self._facts_key(municipality), case_id, facts_json)
            touched.add(municipality)
            n += 1
        if n:
            for municipality in touched:
                pipe.incr(self._version_key(municipality))
            pipe.sadd(f"{self.prefix}:municipalities", *touched)
        return n

    def _queue_health(self, pipe, health: PipelineHealth) -> None:
        key = self._pipeline_key
        for outcome, n in health.outcomes.items():
            if n:
                pipe.hincrby(key, f"events:{outcome}", n)
        for reason, n in health.rejected_by_reason.items():
            if n:
                pipe.hincrby(key, f"rejected:{reason}", n)
        if health.newest_event_ts is not None:
            # Only ever moves forward: HSET would let an older batch overwrite a newer instant.
            pipe.eval(MAX_FIELD, 1, key, "newest_event_ts", repr(health.newest_event_ts))
        if health.consumer_lag is not None:
            pipe.hset(key, f"lag:{health.worker}", health.consumer_lag)
        pipe.hset(key, f"heartbeat:{health.worker}", repr(time.time()))

    def mark_complete(self, partitions: Iterable[int]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for partition in partitions:
            pipe.set(f"{self.prefix}:complete:{partition}", FACTS_FORMAT)
        pipe.set(f"{self.prefix}:epoch", repr(time.time()))
        pipe.execute()

    def incomplete(self, partitions: Iterable[int]) -> list[int]:
        """The partitions among ``partitions`` whose cases are not (all) in the projection."""
        partitions = list(partitions)
        if not partitions:
            return []
        marks = self.client.mget([f"{self.prefix}:complete:{n}" for n in partitions])
        return [n for n, mark in zip(partitions, marks) if mark != _FORMAT_MARK]

    # --- re-projection markers -----------------------------------------------------------------

    def begin_reprojection(self, token: str) -> None:
        """Mark a re-projection run; a flush during the run takes the marker with it."""
        self.client.set(self._reprojection_key(token), token, ex=REPROJECTION_MARK_TTL_S)

    def reprojection_intact(self, token: str) -> bool:
        """True when the run's marker survived, i.e. no flush lost the cases written meanwhile."""
        return self.client.get(self._reprojection_key(token)) == token.encode()

    def end_reprojection(self, token: str) -> None:
        self.client.delete(self._reprojection_key(token))

    # --- reads (exporter) --------------------------------------------------------------------

    def municipalities(self) -> list[str]:
        return sorted(m.decode() for m in self.client.smembers(f"{self.prefix}:municipalities"))

    def versions(self, municipalities: list[str]) -> dict[str, tuple[bytes | None, int]]:
        """Per municipality (epoch, write counter): a flushed and rebuilt projection has a new
        epoch, so a reader never mistakes a restarted counter for the one it cached."""
        if not municipalities:
            return {}
        epoch, *values = self.client.mget([f"{self.prefix}:epoch", *(self._version_key(m) for m in municipalities)])
        return {m: (epoch, int(v or 0)) for m, v in zip(municipalities, values)}

    def read_facts(self, municipality: str) -> list[CaseFacts]:
        return [facts_from_json(v) for v in self.read_facts_raw(municipality).values()]

    def read_facts_raw(self, municipality: str) -> dict[bytes, bytes]:
        """``case_id`` -> the stored facts JSON of every case of ``municipality``, unparsed, so
        that a reader re-parses only the cases whose bytes changed."""
        return self.client.hgetall(self._facts_key(municipality))

    def pipeline_stats(self, now: float | None = None) -> PipelineStats:
        """The pipeline hash with the workers' own fields summed up (see :class:`PipelineStats`)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self._pipeline_key)
        pipe.get(f"{self.prefix}:accepted")
        fields, accepted = pipe.execute()
        raw = {k.decode(): v.decode() for k, v in fields.items()}
        if accepted is not None:  # the sum of the stored case counts (streams/projection_fencing.py)
            raw["events:accepted"] = accepted.decode()
        return PipelineStats.from_fields(raw, now)

    # --- the exporter's snapshot of its computed samples ---------------------------------------

    def read_exporter_snapshots(self, municipalities: list[str]) -> dict[str, bytes | None]:
        if not municipalities:
            return {}
        values = self.client.mget([f"{self.prefix}:exporter:{m}" for m in municipalities])
        return dict(zip(municipalities, values))

    def write_exporter_snapshots(self, documents: Mapping[str, bytes]) -> None:
        if documents:
            self.client.mset({f"{self.prefix}:exporter:{m}": doc for m, doc in documents.items()})

