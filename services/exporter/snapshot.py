"""The exporter's computed samples, kept beside the projection so that a restart is warm in seconds.

Parsing every case's facts and computing every unit's KPIs takes ~30 s at national scale (1 M
cases): building the Python objects of ~5 M items is the floor of that, whatever the encoding.
A restarted exporter does not need them, though: a unit's samples computed at ``computed_at``
stay exact until ``valid_until`` (its next change instant or local midnight, see the collector)
as long as its municipality's facts (the projection's version counter), the thresholds, the
clock rules and the unit registry's display name are the same. So after each scrape that
recomputed something, the collector writes, per municipality it recomputed, one small JSON
document (``Projection.write_exporter_snapshots``): the version it computed from and, per unit,
``earliest``, ``computed_at``, ``valid_until``, the display name, the samples and their
exposition lines (rendering 170,000 samples again would take a restart ~1 s). A starting
exporter reads them all in one round trip, adopts the municipalities whose version still
matches, and parses only the others (and the municipalities where a unit's samples have
expired, when it first needs them). The figures are the ones a cold start computes: each
adopted sample was computed from the same facts under the same rules for an interval that holds
the scrape instant.

JSON, not pickle: the documents live in Redis, and reading them must not execute anything.
A document that does not parse or does not match is ignored (that municipality is parsed).
"""
from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Callable, Hashable, Iterable, Mapping

import orjson

from streams.core.clocks import Clocks
from streams.thresholds import Thresholds

from .metrics import LABELS, UNIT_FAMILIES

log = logging.getLogger("casewatch.exporter")

SNAPSHOT_FORMAT = 2  # 2: each unit's exposition lines too


def fingerprint(thresholds: Thresholds, clocks: Clocks) -> str:
    """What every unit's samples depend on besides its facts and its name: the thresholds, the
    clock rules and the metric catalogue (a new exporter version with other families or labels
    ignores older snapshots)."""
    catalogue = [(name, LABELS.get(name)) for name in UNIT_FAMILIES]
    # the exposition lines are prometheus-client's number format: another version may write others
    parts = (SNAPSHOT_FORMAT, sorted(thresholds.defaults.items()), sorted(thresholds.budgets.items()),
             thresholds.overrides, clocks, catalogue, version("prometheus-client"))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@dataclass(slots=True)
class SavedUnit:
    earliest: float
    computed_at: float
    valid_until: float
    name: str | None
    samples: list | None  # [(family, label values, value)] or None: never computed (not yet existing)
    text: dict[str, bytes] | None = None  # family -> the samples' exposition lines, when rendered


@dataclass(slots=True)
class SavedMunicipality:
    version: Hashable
    cases: int
    units: dict[str, SavedUnit]


def _number(value: float) -> Any:
    # JSON has no NaN or infinities: keep them as their text
    return value if math.isfinite(value) else repr(value)


def _float(value: Any) -> float:
    return float(value)  # a number, or "nan" / "inf" / "-inf"


def encode(version: Hashable, cases: int, fp: str, units: Mapping[str, SavedUnit]) -> bytes:
    return orjson.dumps({
        "format": SNAPSHOT_FORMAT, "fingerprint": fp, "version": repr(version), "cases": cases,
        "units": {u: [_number(s.earliest), _number(s.computed_at), _number(s.valid_until), s.name,
                      None if s.samples is None else [[n, list(labels), _number(v)] for n, labels, v in s.samples],
                      None if s.text is None else {k: v.decode() for k, v in s.text.items()}]
                  for u, s in units.items()}})


def decode(raw: bytes | None, version: Hashable, fp: str) -> SavedMunicipality | None:
    """The saved municipality when ``raw`` is a snapshot of ``version`` under ``fp``, else None."""
    if not raw:
        return None
    try:
        doc = orjson.loads(raw)
        if doc.get("format") != SNAPSHOT_FORMAT or doc.get("fingerprint") != fp or doc.get("version") != repr(version):
            return None
        units = {}
        for unit, (earliest, computed_at, valid_until, name, samples, text) in doc["units"].items():
            units[unit] = SavedUnit(_float(earliest), _float(computed_at), _float(valid_until), name,
                                    None if samples is None else [(n, labels, _float(v)) for n, labels, v in samples],
                                    None if samples is None or text is None else {k: v.encode() for k, v in text.items()})
        return SavedMunicipality(version, int(doc["cases"]), units)
    except (ValueError, TypeError, KeyError, AttributeError):
        log.warning("an exporter snapshot did not parse; its municipality is read from the facts")
        return None


class SnapshotStore:
    """Reads and writes the snapshots through the facts source, when it keeps them (the Redis and
    in-memory projections do); a write that fails is logged once and retried at the next one."""

    def __init__(self, source: Any, every: float, clock: Callable[[], float]) -> None:
        self.read_many = getattr(source, "read_exporter_snapshots", None)
        self.write_many = getattr(source, "write_exporter_snapshots", None)
        self.every = every
        self.clock = clock
        self.dirty: set[str] = set()
        self.last_write = -math.inf
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.read_many is not None and self.write_many is not None and self.every >= 0

    def load(self, versions: Mapping[str, Hashable], fp: str) -> dict[str, SavedMunicipality]:
        if not self.enabled or not versions:
            return {}
        raw = self.read_many(list(versions))
        found = {}
        for municipality, version in versions.items():
            saved = decode(raw.get(municipality), version, fp)
            if saved is not None:
                found[municipality] = saved
        return found

    def due(self) -> bool:
        return self.enabled and bool(self.dirty) and self.clock() - self.last_write >= self.every

    def save(self, documents: Iterable[tuple[str, bytes]], unavailable: tuple[type[BaseException], ...]) -> None:
        try:
            self.write_many(dict(documents))
        except unavailable as exc:
            if not self._warned:
                log.warning("could not keep the exporter snapshot (%s); a restart will parse every case",
                            type(exc).__name__)
                self._warned = True
            return
        self.dirty.clear()
        self.last_write = self.clock()
        self._warned = False
