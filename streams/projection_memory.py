"""The projection in a dict: the same behaviour as :class:`streams.projection.RedisProjection`,
no server (the demo and fast tests)."""
from __future__ import annotations

import time
from typing import Iterable, Mapping

from streams.core.facts import CaseFacts, facts_from_json, facts_to_json
from streams.pipeline_health import PipelineHealth, PipelineStats
from streams.projection import FACTS_FORMAT, Case, FencedOutcome
from streams.projection_fencing import CaseWrite


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
        self.exporter_snapshots: dict[str, bytes] = {}

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

    def read_exporter_snapshots(self, municipalities: list[str]) -> dict[str, bytes | None]:
        return {m: self.exporter_snapshots.get(m) for m in municipalities}

    def write_exporter_snapshots(self, documents: Mapping[str, bytes]) -> None:
        self.exporter_snapshots.update(documents)

    @classmethod
    def of_facts(cls, facts: Iterable[CaseFacts], case_ids: Iterable[str] | None = None) -> "MemoryProjection":
        """A projection holding ``facts`` (case ids numbered when not given)."""
        projection = cls()
        ids = iter(case_ids) if case_ids is not None else (f"case-{i}" for i in range(1 << 62))
        projection.write_cases((f.municipality, next(ids), facts_to_json(f)) for f in facts)
        return projection
