"""PromQL fragments the recording rules and the alerts share.

Every selector comes from :class:`~dashboards.config.MixinConfig`; no per-unit number appears:
unit alerts compare against the exporter's ``casewatch_threshold{kind=...}`` series.
"""
from __future__ import annotations

from streams.thresholds import KINDS

from .config import MixinConfig


def sel(cfg: MixinConfig, metric: str, **matchers: str) -> str:
    labels = [f'job="{cfg.exporter_job}"'] + [f'{k}="{v}"' for k, v in matchers.items()]
    return f"{metric}{{{', '.join(labels)}}}"


def unit_max(cfg: MixinConfig, metric: str) -> str:
    """One series per (municipality, unit); ``max`` de-duplicates redundant exporters."""
    return f"max by (municipality, unit) ({sel(cfg, metric)})"


def threshold(cfg: MixinConfig, kind: str) -> str:
    if kind not in KINDS:
        raise KeyError(f"unknown threshold kind {kind!r}")
    return f"max by (municipality, unit) ({sel(cfg, 'casewatch_threshold', kind=kind)})"


def placement_cost(cfg: MixinConfig) -> str:
    return (
        "sum by (municipality, unit) (max by (municipality, unit, placement_type) "
        f"({sel(cfg, 'casewatch_month_placement_cost_sek')}))"
    )


def budget(cfg: MixinConfig, category: str) -> str:
    return f"max by (municipality, unit) ({sel(cfg, 'casewatch_budget_month_to_date_sek', category=category)})"


def budget_deviation(cfg: MixinConfig, cost_expr: str, category: str) -> str:
    """cost / budget pace - 1: > 0 is over budget (yellow up to budget_deviation_pct, red beyond)."""
    return f"{cost_expr}\n/ on (municipality, unit)\n({budget(cfg, category)} > 0)\n- 1"


def inflow_ratio(cfg: MixinConfig) -> str:
    return (
        f"{unit_max(cfg, 'casewatch_reports_received_last_7d')}\n/ on (municipality, unit)\n"
        f"({unit_max(cfg, 'casewatch_reports_received_weekly_mean_12w')} > 0)"
    )


def stockholm_summer_time() -> str:
    """Non-empty while Europe/Stockholm keeps CEST (UTC+2): from the last Sunday of March 01:00
    UTC to the last Sunday of October 01:00 UTC (EU rule). ``day_of_month() - day_of_week()`` is
    the date of the latest Sunday (today if Sunday); it is >= 25 once the month's last Sunday came."""
    last_sunday_passed = "(day_of_month() - day_of_week()) >= 25"
    return (
        "(month() > 3 and month() < 10)\n"
        f"or (month() == 3 and {last_sunday_passed} and (day_of_week() > 0 or hour() >= 1))\n"
        "or (month() == 10 and ((day_of_month() - day_of_week()) < 25 or (day_of_week() == 0 and hour() < 1)))"
    )


def stockholm_offset_hours() -> str:
    return f"(vector(2) and on () (\n{_indent(stockholm_summer_time())}\n)) or vector(1)"


def office_hours(cfg: MixinConfig) -> str:
    """Non-empty (value 1) on weekdays between office_hours_start and _end, Stockholm local time.
    The local hour cannot wrap past midnight inside 08-17, so UTC day_of_week() is the local day.
    Public holidays are not modelled here (Alertmanager's time intervals handle the fixed ones)."""
    local_hour = f"(hour() + on () ({stockholm_offset_hours()}))"
    return (
        f"(vector(1) and on () ({local_hour} >= {cfg.office_hours_start} < {cfg.office_hours_end}))\n"
        "and on () (day_of_week() >= 1 <= 5)"
    )


def _indent(text: str, n: int = 2) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())
