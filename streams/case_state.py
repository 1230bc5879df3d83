"""The worker's per-case state, without I/O: a case's distinct events, dedup, re-fold, bytes.

A case is kept as the *set* of its distinct events (CONTRACT.md §3), exactly as the reference
replay keeps it (:class:`streams.core.replay.Replay`): ``event_id`` → ``[ts, code, unit,
payload]``. Its folded facts are a function of that set alone, so the streaming path and
``casewatch replay`` agree figure for figure, and re-applying a case after a crash writes the
same bytes.

:class:`Batch` gathers one ``stream.take()`` batch: every case an event touched, loaded once
from the table, updated in memory, written back once (one changelog record and one Redis field
per case per batch, not per event). A duplicate changes nothing in the set but still *touches*
its case: after a crash the local table may already hold an event whose changelog record and
Redis write never happened, and the redelivered copy (a duplicate by then) re-sends both.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Iterator, Optional, Protocol

import zlib

import orjson

from streams.contract.validate import Event, Rejection
from streams.core.facts import CaseFacts, Record, facts_to_json, fold_case

KEY_SEPARATOR = "/"
# A stored case is zlib-compressed JSON behind this byte (plain JSON, as older versions wrote
# it, starts with "{"): about 10 instead of 52 bytes per simulated event, so a case of 22,000
# events stays far below the changelog's 1 MB record limit.
COMPRESSED = b"z"


def table_key(municipality: str, case_id: str) -> bytes:
    """``{municipality}/{case_id}``: a municipality is four digits, so the split is unambiguous."""
    return f"{municipality}{KEY_SEPARATOR}{case_id}".encode()


def split_key(key: bytes) -> tuple[str, str]:
    municipality, _, case_id = key.decode().partition(KEY_SEPARATOR)
    return municipality, case_id


class CaseState:
    """One case's distinct events: ``event_id`` → ``[ts, code, unit, payload]``."""

    __slots__ = ("municipality", "case_id", "events")

    def __init__(self, municipality: str, case_id: str, events: Optional[dict] = None) -> None:
        self.municipality = municipality
        self.case_id = case_id
        self.events: dict[str, list] = events if events is not None else {}

    def add(self, event: Event) -> bool:
        """Keep ``event``; False (nothing changed) when the case already has its id."""
        if event.event_id in self.events:
            return False
        self.events[event.event_id] = [event.ts, event.code, event.unit, list(event.payload)]
        return True

    def records(self) -> Iterator[Record]:
        """The events as the fold takes them: ``(ts, code, event_id, unit, payload)``."""
        for event_id, (ts, code, unit, payload) in self.events.items():
            yield ts, code, event_id, unit, tuple(payload)

    def fold(self, as_of: float | None = None) -> CaseFacts:
        return fold_case(self.municipality, self.records(), as_of)

    def facts_json(self) -> bytes:
        """The folded facts (all events) as the projection stores them."""
        return facts_to_json(self.fold())

    def to_bytes(self) -> bytes:
        return COMPRESSED + zlib.compress(orjson.dumps(self.events), 6)

    @classmethod
    def from_bytes(cls, municipality: str, case_id: str, raw: bytes) -> "CaseState":
        if raw[:1] == COMPRESSED:
            raw = zlib.decompress(raw[1:])
        return cls(municipality, case_id, orjson.loads(raw))

    def __len__(self) -> int:
        return len(self.events)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, CaseState) and self.municipality == other.municipality
                and self.case_id == other.case_id and self.events == other.events)

    def __repr__(self) -> str:
        return f"CaseState({self.municipality!r}, {self.case_id!r}, {len(self.events)} events)"


Loader = Callable[[bytes], Optional[bytes]]


class StateSource(Protocol):
    """Where a batch finds decoded states before it reads the table (:class:`streams.case_cache.CaseCache`)."""

    def take(self, key: bytes) -> Optional[CaseState]: ...


class Batch:
    """The outcome of one batch of messages, and the cases it touched (in first-touch order)."""

    def __init__(self, load: Loader, cache: Optional[StateSource] = None) -> None:
        self._load = load
        self._cache = cache
        self.cases: dict[bytes, CaseState] = {}
        self.accepted = 0
        self.duplicates = 0
        self.rejected: Counter[str] = Counter()
        self.newest_ts: float | None = None

    def add(self, event: Event) -> tuple[bytes, bool]:
        """Add an accepted event to its case; ``(table key, True when new to the case)``."""
        key = table_key(event.municipality, event.case_id)
        case = self.cases.get(key)
        if case is None:
            case = self._cache.take(key) if self._cache is not None else None
            if case is None:
                raw = self._load(key)
                case = (CaseState(event.municipality, event.case_id) if raw is None
                        else CaseState.from_bytes(event.municipality, event.case_id, raw))
            self.cases[key] = case
        if not case.add(event):
            self.duplicates += 1
            return key, False
        self.accepted += 1
        if self.newest_ts is None or event.ts > self.newest_ts:
            self.newest_ts = event.ts
        return key, True

    def reject(self, rejection: Rejection) -> None:
        self.rejected[rejection.reason] += 1

    def outcomes(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicate": self.duplicates,
                "rejected": sum(self.rejected.values())}

    def projections(self) -> Iterator[tuple[str, str, bytes]]:
        """``(municipality, case_id, facts JSON)`` for every touched case, for ``write_cases``."""
        for case in self.cases.values():
            yield case.municipality, case.case_id, case.facts_json()
