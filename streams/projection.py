"""The projection: what the worker writes and the exporter reads. This module alone knows its keys.

:class:`Projection` is the interface; :class:`RedisProjection` the real one and
:class:`MemoryProjection` the same behaviour in a dict (demo, fast tests).

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
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Hashable, Iterable, Mapping, NamedTuple, Protocol

from streams.core.facts import CaseFacts, facts_from_json, facts_to_json
from streams.projection_fencing import FENCED_WRITE, CaseWrite, fenced_args

if TYPE_CHECKING:  # redis is imported by RedisProjection.from_url, not at module load
    import redis

OUTCOMES = ("accepted", "duplicate", "rejected")
WORKER_FRESH_S = 30.0  # a worker silent this long no longer counts towards the consumer lag
# The facts' format the complete marks vouch for: 1 = contract v1 (written as "1" by the old
# worker), 2 = contract v2. Bump it when fold_case's output changes meaning, so that every worker
# re-projects its cases from its own table at the next housekeeping tick.
FACTS_FORMAT = 2
_FORMAT_MARK = str(FACTS_FORMAT).encode()
REPROJECTION_MARK_TTL_S = 3600  # a worker killed mid-run leaves no marker behind for good

Case = tuple[str, str, bytes]  # (municipality, case_id, folded facts JSON)


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


def _health_fields(health: PipelineHealth) -> tuple[dict[str, int], dict[str, str]]:
    """The pipeline hash's increments and plain fields for one batch or tick."""
    incr = {f"events:{k}": n for k, n in health.outcomes.items() if n}
    incr.update({f"rejected:{k}": n for k, n in health.rejected_by_reason.items() if n})
    fields = {f"heartbeat:{health.worker}": repr(time.time())}
    if health.consumer_lag is not None:
        fields[f"lag:{health.worker}"] = str(health.consumer_lag)
    return incr, fields


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
        incr, fields = _health_fields(health) if health is not None else ({}, {})
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
            pipe.eval(_MAX_FIELD, 1, key, "newest_event_ts", repr(health.newest_event_ts))
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


class MemoryProjection:
    """The projection in a dict: the same behaviour as :class:`RedisProjection`, no server."""

    def __init__(self) -> None:
        self.facts: dict[str, dict[bytes, bytes]] = {}
        self.version: dict[str, int] = {}
        self.complete: set[tuple[int, int]] = set()  # (partition, facts format)
        self.epoch: float | None = None
        self.fields: dict[str, str] = {}
        self.reprojections: set[str] = set()
        self.fences: dict[int, int] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self.marks: dict[int, str] = {}
        self.accepted: int | None = None  # {p}:accepted
        self.counted: dict[int, int] = {}  # {p}:counted:{partition}

    def write_cases(self, cases: Iterable[Case]) -> int:
        n = 0
        for municipality, case_id, facts_json in cases:
            self.facts.setdefault(municipality, {})[case_id.encode()] = bytes(facts_json)
            self.version[municipality] = self.version.get(municipality, 0) + 1
            n += 1
        return n

    def write_batch(self, cases: Iterable[Case], health: PipelineHealth) -> int:
        n = self.write_cases(cases)
        self.record_pipeline(health)
        return n

    def record_pipeline(self, health: PipelineHealth) -> None:
        def add(name: str, n: int) -> None:
            if n:
                self.fields[name] = str(int(self.fields.get(name, "0")) + n)

        for outcome, n in health.outcomes.items():
            add(f"events:{outcome}", n)
        for reason, n in health.rejected_by_reason.items():
            add(f"rejected:{reason}", n)
        if health.newest_event_ts is not None:
            current = float(self.fields.get("newest_event_ts", "-inf"))
            if health.newest_event_ts > current:
                self.fields["newest_event_ts"] = repr(health.newest_event_ts)
        if health.consumer_lag is not None:
            self.fields[f"lag:{health.worker}"] = str(health.consumer_lag)
        self.fields[f"heartbeat:{health.worker}"] = repr(time.time())

    def write_fenced(self, cases: Iterable[CaseWrite], health: PipelineHealth | None, fences: Mapping[int, int],
                     marks: Mapping[int, str], new_epoch: bool = False,
                     previous: Mapping[int, str] | None = None) -> FencedOutcome:
        lost = tuple(sorted(p for p, g in fences.items() if self.fences.get(p, -1) > g))
        if lost:
            return FencedOutcome(lost=lost)
        self.fences.update(fences)
        written = skipped = 0
        for case in cases:
            current = self.counts.get((case.municipality, case.case_id), -1)
            if case.events < current:
                skipped += 1
                continue
            if case.events > max(current, 0):
                self.accepted = (self.accepted or 0) + case.events - max(current, 0)
            self.counts[(case.municipality, case.case_id)] = case.events
            written += self.write_cases([(case.municipality, case.case_id, case.facts_json)])
        for p, mark in marks.items():
            before = (previous or {}).get(p)
            if not before or self.marks.get(p) == before:
                self.marks[p] = mark
        if new_epoch:
            self.epoch = time.time()
        if health is not None:
            exact = health.offsets is not None
            self.record_pipeline(health._replace(
                outcomes={k: n for k, n in health.outcomes.items() if k != "accepted" and not exact},
                rejected_by_reason={} if exact else health.rejected_by_reason))
            for partition, offset, *names in health.tallies:
                if offset > self.counted.get(partition, -1):
                    for name in names:
                        self.fields[name] = str(int(self.fields.get(name, "0")) + 1)
            for partition, offset in (health.offsets or {}).items():
                self.counted[partition] = max(self.counted.get(partition, -1), offset)
        return FencedOutcome((), written, skipped)

    def written_marks(self, partitions: Iterable[int]) -> dict[int, str | None]:
        return {n: self.marks.get(n) for n in partitions}

    def forget_worker(self, worker: str) -> None:
        self.fields.pop(f"lag:{worker}", None)
        self.fields.pop(f"heartbeat:{worker}", None)

    def mark_complete(self, partitions: Iterable[int], facts_format: int = FACTS_FORMAT) -> None:
        self.complete.update((n, facts_format) for n in partitions)
        self.epoch = time.time()

    def incomplete(self, partitions: Iterable[int]) -> list[int]:
        return [n for n in partitions if (n, FACTS_FORMAT) not in self.complete]

    def begin_reprojection(self, token: str) -> None:
        self.reprojections.add(token)

    def reprojection_intact(self, token: str) -> bool:
        return token in self.reprojections

    def end_reprojection(self, token: str) -> None:
        self.reprojections.discard(token)

    def flush(self) -> None:
        """What FLUSHDB does to the Redis projection."""
        self.__init__()

    def municipalities(self) -> list[str]:
        return sorted(self.facts)

    def versions(self, municipalities: list[str]) -> dict[str, tuple[float | None, int]]:
        return {m: (self.epoch, self.version.get(m, 0)) for m in municipalities}

    def read_facts(self, municipality: str) -> list[CaseFacts]:
        return [facts_from_json(v) for v in self.read_facts_raw(municipality).values()]

    def read_facts_raw(self, municipality: str) -> dict[bytes, bytes]:
        return dict(self.facts.get(municipality, {}))

    def pipeline_stats(self, now: float | None = None) -> PipelineStats:
        fields = self.fields if self.accepted is None else {**self.fields, "events:accepted": str(self.accepted)}
        return PipelineStats.from_fields(fields, now)

    @classmethod
    def of_facts(cls, facts: Iterable[CaseFacts], case_ids: Iterable[str] | None = None) -> "MemoryProjection":
        """A projection holding ``facts`` (case ids numbered when not given)."""
        projection = cls()
        ids = iter(case_ids) if case_ids is not None else (f"case-{i}" for i in range(1 << 62))
        projection.write_cases((f.municipality, next(ids), facts_to_json(f)) for f in facts)
        return projection


# Lua: set a hash field to max(current, new) atomically.
_MAX_FIELD = """
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1e308')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
"""
