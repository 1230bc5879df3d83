"""Local-calendar arithmetic for the contract's time rules (CONTRACT.md §3).

Timestamps travel through the core as POSIX seconds (floats): cheap to compare and sort.
Calendar questions (which local day, N months later) are answered in Europe/Stockholm.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# UTC offset per UTC hour. Stockholm only changes offset on whole UTC hours, so one lookup per
# hour bucket is exact and replaces a zoneinfo conversion on the hot path.
_OFFSET_BY_HOUR: dict[int, int] = {}


def _offset_seconds(ts: float) -> int:
    hour = int(ts // 3600)
    offset = _OFFSET_BY_HOUR.get(hour)
    if offset is None:
        local = datetime.fromtimestamp(hour * 3600, STOCKHOLM)
        delta = local.utcoffset()
        offset = int(delta.total_seconds()) if delta is not None else 0  # never None: an aware time
        _OFFSET_BY_HOUR[hour] = offset
    return offset


def local_day(ts: float) -> int:
    """The proleptic ordinal of the Stockholm calendar date containing instant ``ts``."""
    return int((ts + _offset_seconds(ts)) // 86400) + _EPOCH_ORDINAL


def local_date(ts: float) -> date:
    return date.fromordinal(local_day(ts))


def day_start(day: int) -> float:
    """The instant local midnight begins on the date with ordinal ``day``."""
    d = date.fromordinal(day)
    return datetime(d.year, d.month, d.day, tzinfo=STOCKHOLM).timestamp()


def to_local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, STOCKHOLM)


def format_ts(ts: float) -> str:
    """RFC 3339 in Stockholm local time, seconds precision unless the instant has a fraction."""
    local = to_local(ts)
    spec = "seconds" if local.microsecond == 0 else "microseconds"
    return local.isoformat(timespec=spec)


def add_months(dt: datetime, months: int) -> datetime:
    """Same local time ``months`` later; a day missing in the target month becomes its last day."""
    index = dt.month - 1 + months
    year, month = dt.year + index // 12, index % 12 + 1
    return dt.replace(year=year, month=month, day=min(dt.day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def days_in_month(year: int, month: int) -> int:
    return _days_in_month(year, month)


def shift(ts: float, amount: int, unit: str) -> float:
    """``ts`` moved by a legal-clock duration: ``hours`` are elapsed time, ``days`` and
    ``months`` are calendar steps at the same local wall-clock time (DST-safe)."""
    if unit == "hours":
        return ts + amount * 3600
    local = to_local(ts)
    if unit == "days":
        moved = local + timedelta(days=amount)  # wall-clock arithmetic on an aware datetime
    elif unit == "months":
        moved = add_months(local, amount)
    else:
        raise ValueError(f"unknown duration unit {unit!r}")
    # Re-resolve the offset for the new wall-clock time (the source offset may differ in DST).
    return moved.replace(tzinfo=STOCKHOLM).timestamp()


def month_bounds(day: int) -> tuple[int, int]:
    """First day of the month containing ``day`` and first day of the next month (ordinals)."""
    d = date.fromordinal(day)
    first = date(d.year, d.month, 1)
    nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return first.toordinal(), nxt.toordinal()
