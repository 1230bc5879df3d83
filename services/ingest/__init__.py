"""`casewatch ingest`: a JSONL file of case events onto Kafka, validated line by line.

Each line goes through the contract's validator. Accepted events are produced re-serialised with
the contract's fields only (never the bytes received: CONTRACT.md §1a) to the case-event topic
keyed by ``case_id``; rejected lines go to the dead-letter topic (:mod:`streams.dead_letter`). A
second event with an event id already seen for the same municipality and case in this file is a
duplicate: counted, not produced again. The worker deduplicates across files and re-runs, so
ingesting a file twice changes no figure.

Memory is constant in the file size except for the per-case event-id sets of the duplicate
count; blank lines are layout and skipped, as ``casewatch replay`` does, so the summary's
``accepted`` / ``duplicates`` / ``rejected`` equal the replay's ``events`` block.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from streams.contract.validate import Rejection, validate_line_canonical
from streams.event_size import DEFAULT_MAX_EVENT_BYTES, REFUSED, too_large
from streams.dead_letter import dead_letter_record

from .producer import DeliveryError, DeliveryTracker, KafkaUnreachable, make_producer

INGEST_SOURCE = "casewatch-ingest"  # the dead letters' ``source`` header

__all__ = ["IngestSummary", "ingest_lines", "DeliveryError", "KafkaUnreachable", "make_producer", "DeliveryTracker"]


@dataclass
class IngestSummary:
    source_file: str
    case_topic: str
    dead_letter_topic: str
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected_by_reason: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    def as_json(self) -> dict:
        return {
            "file": self.source_file,
            "topics": {"case_events": self.case_topic, "dead_letter": self.dead_letter_topic},
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "seconds": round(self.seconds, 3),
        }


def ingest_lines(lines: Iterable[bytes], tracker: DeliveryTracker, case_topic: str, dead_letter_topic: str,
                 source_file: str, progress: Callable[[int], None] | None = None,
                 progress_every: int = 10_000, registry=None,
                 max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> IngestSummary:
    """Validate and send every line; returns the counts once Kafka acknowledged everything.
    An event whose canonical form exceeds ``max_event_bytes`` is dead-lettered as ``too_large``.

    ``progress(bytes_read)`` is called every ``progress_every`` lines. Raises
    :class:`DeliveryError` when a message is not acknowledged.
    """
    started = time.perf_counter()
    summary = IngestSummary(source_file, case_topic, dead_letter_topic)
    rejected = summary.rejected_by_reason
    seen: dict[tuple[str, str], set[str]] = {}
    send = tracker.send
    accepted = duplicates = done_bytes = 0
    line_no = 0
    for line_no, line in enumerate(lines, 1):
        done_bytes += len(line)
        if progress is not None and line_no % progress_every == 0:
            progress(done_bytes)
        body = line.strip()
        if not body:
            continue  # blank lines are layout, not events
        event, canonical = validate_line_canonical(body, registry)
        if type(event) is not Rejection and too_large(canonical, max_event_bytes):
            event = REFUSED
        if type(event) is Rejection:
            rejected[event.reason] += 1
            letter = dead_letter_record(line.rstrip(b"\r\n"), event, source=INGEST_SOURCE,
                                        source_file=source_file, line_no=line_no)
            send(dead_letter_topic, letter.value, letter.key, letter.headers)
            continue
        ids = seen.get((event.municipality, event.case_id))
        if ids is None:
            ids = seen[(event.municipality, event.case_id)] = set()
        elif event.event_id in ids:
            duplicates += 1
            continue
        ids.add(event.event_id)
        send(case_topic, canonical, event.case_id.encode("utf-8"))
        accepted += 1
    tracker.finish()
    if progress is not None:
        progress(done_bytes)
    summary.lines, summary.accepted, summary.duplicates = line_no, accepted, duplicates
    summary.seconds = time.perf_counter() - started
    return summary
