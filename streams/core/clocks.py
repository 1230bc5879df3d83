"""The legal clocks as data (DOMAIN.md, CONTRACT.md §3).

Each rule names its id, its duration, when an early warning starts, and the paragraphs of the
old (2001:453) and new (2025:400) Socialtjänstlag it rests on. The law changed numbering on
1 July 2025, not the limits; keeping both references lets a report cite the one in force.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from .timeutil import shift

# CONTRACT.md §3: "at most 14 days (configurable; calendar days, same local time)".
CONTRACT_LINK_WINDOW_DAYS = 14


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: str  # "hours" (elapsed), "days" or "months" (calendar, same local time)

    def after(self, ts: float) -> float:
        return shift(ts, self.amount, self.unit)

    def before(self, ts: float) -> float:
        return shift(ts, -self.amount, self.unit)

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"


@dataclass(frozen=True, slots=True)
class ClockRule:
    id: str
    title_sv: str
    duration: Duration
    warn_before: Duration | None
    sol_2001_453: str
    sol_2025_400: str | None  # None where the new paragraph is not yet confirmed by the domain owners
    valid_from: date = date(2025, 7, 1)

    def deadline(self, start_ts: float) -> float:
        return self.duration.after(start_ts)

    def warning_from(self, deadline_ts: float) -> float | None:
        return None if self.warn_before is None else self.warn_before.before(deadline_ts)


@dataclass(frozen=True, slots=True)
class Clocks:
    protection: ClockRule
    screening: ClockRule
    investigation: ClockRule
    enforcement: ClockRule
    extra: tuple[ClockRule, ...] = field(default=())
    # A child investigation opened within this time of a no_action close of the previous child
    # investigation continues its clock (JO's criticism of restarted clocks; CONTRACT.md §3).
    link_window: Duration = Duration(CONTRACT_LINK_WINDOW_DAYS, "days")

    def all(self) -> tuple[ClockRule, ...]:
        return (self.protection, self.screening, self.investigation, self.enforcement, *self.extra)


DEFAULT_CLOCKS = Clocks(
    protection=ClockRule(
        "protection_assessment", "Skyddsbedömning", Duration(24, "hours"), None,
        sol_2001_453="11 kap. 1 a §", sol_2025_400=None,
    ),
    screening=ClockRule(
        "preliminary_assessment", "Förhandsbedömning", Duration(14, "days"), Duration(4, "days"),
        sol_2001_453="11 kap. 1 a §", sol_2025_400="20 kap. 2 §",
    ),
    investigation=ClockRule(
        "investigation_child", "Utredning av barn", Duration(4, "months"), Duration(1, "months"),
        sol_2001_453="11 kap. 2 §", sol_2025_400=None,
    ),
    enforcement=ClockRule(
        "decision_not_enforced", "Ej verkställt beslut (rapport till IVO)", Duration(3, "months"),
        Duration(1, "months"), sol_2001_453="16 kap. 6 f §", sol_2025_400=None,
    ),
)


def clocks_from_mapping(raw: dict) -> Clocks:
    """Override durations from configuration, e.g. ``{"screening": {"duration": {"amount": 14, "unit": "days"}},
    "link_window": {"amount": 14, "unit": "days"}}``."""
    kwargs = {}
    for name in ("protection", "screening", "investigation", "enforcement"):
        rule: ClockRule = getattr(DEFAULT_CLOCKS, name)
        override = raw.get(name) or {}
        duration = Duration(**override["duration"]) if "duration" in override else rule.duration
        warn = rule.warn_before
        if "warn_before" in override:
            warn = Duration(**override["warn_before"]) if override["warn_before"] else None
        if duration.unit not in ("hours", "days", "months"):
            raise ValueError(f"clock {name}: unit must be hours, days or months")
        kwargs[name] = ClockRule(rule.id, rule.title_sv, duration, warn, rule.sol_2001_453, rule.sol_2025_400, rule.valid_from)
    if raw.get("link_window"):
        window = Duration(**raw["link_window"])
        if window.unit not in ("hours", "days", "months") or window.amount < 0:
            raise ValueError("link_window: a non-negative amount of hours, days or months")
        kwargs["link_window"] = window
    return Clocks(**kwargs)


def clocks_with_link_window(days: int) -> Clocks:
    """The default clocks with a link window of ``days`` calendar days (the setting
    ``investigation_link_window_days``); the very default object for the contract's 14."""
    if days == CONTRACT_LINK_WINDOW_DAYS:
        return DEFAULT_CLOCKS
    if days < 0:
        raise ValueError("link window: a non-negative number of days")
    return replace(DEFAULT_CLOCKS, link_window=Duration(days, "days"))
