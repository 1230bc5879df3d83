"""What to simulate: the event catalogue as the generator numbers it, municipality codes, the spec
and the statistics a run fills in."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from streams.core.timeutil import STOCKHOLM, shift

from . import model as M

# --- the catalogue, as the generator uses it -------------------------------------------------------

TYPES = (
    "report.received", "report.protection_assessed", "report.screened", "investigation.opened",
    "investigation.extended", "investigation.closed", "decision.made", "decision.enforced",
    "decision.ended", "placement.started", "placement.cost_changed", "placement.ended",
    "application.received", "application.decided", "payment.made", "staff.joined", "staff.left",
    "case.transferred", "decision.interrupted", "decision.resumed", "decision.delay_reason",
)
(REPORT, PROTECTED, SCREENED, INV_OPENED, INV_EXTENDED, INV_CLOSED, DEC_MADE, DEC_ENFORCED,
 DEC_ENDED, PL_STARTED, PL_COST, PL_ENDED, APP_RECEIVED, APP_DECIDED, PAYMENT, STAFF_JOINED,
 STAFF_LEFT, TRANSFERRED, DEC_INTERRUPTED, DEC_RESUMED, DEC_DELAY_REASON) = range(len(TYPES))

INVALID_REASONS = ("invalid_json", "missing_field", "bad_type", "unknown_type", "bad_timestamp",
                   "personal_id_in_payload")

_UNIT_NAME = re.compile(r"[a-z0-9-]{1,40}")

# --- municipality codes ----------------------------------------------------------------------------

# Stockholm county first (real SCB codes), then real county prefixes with code numbers in the
# style SCB uses; 290 in all, like Sweden. Further ones (beyond 290) use a made-up prefix "27".
_STOCKHOLM_COUNTY = ("0138", "0114", "0115", "0117", "0120", "0123", "0125", "0126", "0127", "0128",
                     "0136", "0139", "0140", "0160", "0162", "0163", "0180", "0181", "0182", "0183",
                     "0184", "0186", "0187", "0188", "0191", "0192")
_COUNTIES = (("03", 8), ("04", 9), ("05", 13), ("06", 13), ("07", 8), ("08", 12), ("09", 1),
             ("10", 5), ("12", 33), ("13", 6), ("14", 49), ("17", 16), ("18", 12), ("19", 10),
             ("20", 15), ("21", 10), ("22", 7), ("23", 8), ("24", 15), ("25", 14))
_CODE_NUMBERS = tuple(range(80, 100)) + tuple(range(60, 80)) + tuple(range(10, 60))


def municipality_codes(n: int) -> list[str]:
    """``n`` distinct, real-looking SCB kommunkoder, the first one ``0138``."""
    codes = list(_STOCKHOLM_COUNTY)
    for county, count in _COUNTIES:
        codes.extend(f"{county}{k:02d}" for k in _CODE_NUMBERS[:count])
    k = 0
    while len(codes) < n:
        codes.append(f"27{k % 100:02d}" if k < 100 else f"{28 + k // 100:02d}{k % 100:02d}")
        k += 1
    return codes[:n]


# --- the spec ----------------------------------------------------------------------------------------


def default_end() -> datetime:
    """Now in Europe/Stockholm, truncated to the hour."""
    return datetime.now(STOCKHOLM).replace(minute=0, second=0, microsecond=0)


def default_units(population: int) -> tuple[str, ...]:
    """bou-1, bou-2, vuxen-1, eb-1 at 50,000; more units of each kind for larger populations."""
    scale = population / M.REFERENCE_POPULATION
    units: list[str] = []
    for kind, per_reference in M.UNITS_PER_REFERENCE.items():
        count = max(1, int(per_reference * scale + 0.5))
        units.extend(f"{kind}-{i}" for i in range(1, count + 1))
    return tuple(units)


@dataclass(frozen=True)
class SimulationSpec:
    """What to simulate. ``population`` is per municipality and scales every volume linearly."""

    municipalities: int = 1
    population: int = 50_000
    months: int = 6
    end: datetime = field(default_factory=default_end)
    seed: int = 1
    # Unit names per municipality; None: derived from the population (see default_units).
    units_per_municipality: Optional[tuple[str, ...]] = None
    duplicate_rate: float = 0.01
    late_rate: float = 0.02
    invalid_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.municipalities < 1 or self.population < 1 or self.months < 1:
            raise ValueError("municipalities, population and months must be at least 1")
        if self.end.tzinfo is None or self.end.utcoffset() is None:
            raise ValueError("end must be timezone-aware")
        for name in ("duplicate_rate", "late_rate", "invalid_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if self.units_per_municipality is not None:
            units = tuple(self.units_per_municipality)
            if not units or len(set(units)) != len(units):
                raise ValueError("units_per_municipality must be distinct names")
            for unit in units:
                if not _UNIT_NAME.fullmatch(unit):
                    raise ValueError(f"bad unit name {unit!r}: use [a-z0-9-]{{1,40}}")
            object.__setattr__(self, "units_per_municipality", units)

    @property
    def units(self) -> tuple[str, ...]:
        return self.units_per_municipality or default_units(self.population)

    def window(self) -> tuple[datetime, datetime]:
        """The simulated window [start, end) in Stockholm time: ``months`` calendar months to ``end``."""
        end_ts = self.end.timestamp()
        start_ts = shift(end_ts, -self.months, "months")
        return datetime.fromtimestamp(start_ts, STOCKHOLM), datetime.fromtimestamp(end_ts, STOCKHOLM)


@dataclass
class SimulationStats:
    """Filled in while a simulation runs (lines are counted as they are produced)."""

    lines: int = 0
    events: int = 0  # distinct valid events
    duplicates: int = 0
    late: int = 0
    invalid: int = 0
    first_occurred_at: Optional[str] = None
    last_occurred_at: Optional[str] = None

