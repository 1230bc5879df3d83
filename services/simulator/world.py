"""The world's bookkeeping: units and their pre-built line heads, and the buckets of pending lines
by arrival day."""
from __future__ import annotations

from . import model as M
from .draws import DAY, Clock
from .spec import TYPES, SimulationSpec


class Unit:
    """``scale``: this unit's share of the municipality's volumes, relative to the reference
    municipality; ``staff_scale``: its staff relative to a reference unit of its kind."""

    __slots__ = ("name", "kind", "scale", "staff_scale", "heads")

    def __init__(self, municipality: str, name: str, kind: str, scale: float, staff_scale: float) -> None:
        self.name = name
        self.kind = kind
        self.scale = scale
        self.staff_scale = staff_scale
        self.heads = [f'"type":"{t}","municipality":"{municipality}","unit":"{name}","case_id":"'
                      for t in TYPES]


def unit_kind(name: str) -> str:
    for kind in ("bou", "vuxen", "eb") + M.FLOW_KINDS:
        if name.startswith(kind):
            return kind
    return "other"


class World:
    """Buckets of pending lines by arrival day, and the perturbation draws."""

    def __init__(self, spec: SimulationSpec, clock: Clock) -> None:
        self.spec = spec
        self.clock = clock
        start, end = spec.window()
        self.window_start = int(start.timestamp())
        self.end = int(end.timestamp())
        self.window_start_day = clock.day(self.window_start)
        self.first_day = self.window_start_day - M.WARMUP_DAYS
        self.last_day = clock.day(self.end - 1)
        self.base = clock.midnight(self.first_day)
        self.last_bucket = (self.end - 1 - self.base) // DAY
        self.buckets: dict[int, list] = {}
        self.seq = 0
        self.late_rate = spec.late_rate
        self.duplicate_rate = spec.duplicate_rate
        self.late_count = 0
        self.duplicate_count = 0
        self.event_count = 0

    def put(self, arrival: int, record: tuple) -> None:
        if arrival >= self.end:
            arrival = self.end - 1
        k = (arrival - self.base) // DAY
        if k < 0:
            k = 0
        self.seq += 1
        bucket = self.buckets.get(k)
        if bucket is None:
            bucket = self.buckets[k] = []
        bucket.append((arrival, self.seq) + record)

