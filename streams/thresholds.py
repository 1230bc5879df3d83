"""Per-unit thresholds (``dashboards/thresholds.yaml``): the one runtime loader of that file.

* :func:`load_thresholds` reads the one threshold file that unit heads edit. The exporter turns
  it into ``casewatch_threshold{municipality,unit,kind}`` and ``casewatch_budget_month_to_date_sek``;
  the Grafana dashboards draw its values as threshold lines; the board report colours with
  :func:`budget_status`. Rules never contain a per-unit number: they compare against the
  exported ``casewatch_threshold`` series, so changing a threshold needs no rule edit.
* The exporter, the board snapshot and the build-time mixin (``dashboards/``) all read it here.

Public, stable API (imported by the exporter and the dashboards)::

    th = load_thresholds()                 # or load_thresholds(settings.thresholds_file)
    th.kinds                               # ('budget_deviation_pct', 'caseload_per_social_worker_max', ...)
    th.for_unit("0138", "bou-1")           # {'reports_awaiting_screening_max': 30.0, ...}
    th.budget_month_sek("0138", "bou-1")   # {'placements': 2500000.0, 'consultants': ..., ...}
    th.budget_categories                   # ('consultants', 'economic_assistance', 'placements')
    budget_status(cost, budget, th.for_unit(m, u)["budget_deviation_pct"])  # 'green'|'yellow'|'red'

Nothing here reads the environment: a caller that honours ``CASEWATCH_THRESHOLDS_FILE`` passes
the path in (``Settings.thresholds_file``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

# The file unit heads edit stays beside the dashboards that draw it; reading it is a runtime job.
DEFAULT_THRESHOLDS_FILE = Path(__file__).resolve().parents[1] / "dashboards" / "thresholds.yaml"

# kind -> (meaning, upper bound or None). Adding a kind here (and a default in thresholds.yaml)
# is all the exporter needs: it exports every kind in Thresholds.kinds.
KINDS: Mapping[str, tuple[str, float | None]] = MappingProxyType({
    "reports_awaiting_screening_max": ("reports awaiting screening, count", None),
    "investigations_open_max": ("open investigations, count", None),
    "decisions_not_enforced_max": ("decisions not enforced, count", None),
    "caseload_per_social_worker_max": ("open investigations per social worker FTE", None),
    "consultant_share_max": ("consultant FTE share, 0..1", 1.0),
    "inflow_spike_ratio": ("reports last 7 days / 12-week weekly mean", None),
    "inflow_spike_min_reports": ("minimum reports in the last 7 days before an inflow spike alerts", None),
    "budget_deviation_pct": ("percent over budget pace that turns yellow into red", 100.0),
})
BUDGET_CATEGORIES: tuple[str, ...] = ("consultants", "economic_assistance", "placements")

_MUNICIPALITY = re.compile(r"^[0-9]{4}$")
_UNIT = re.compile(r"^[a-z0-9-]{1,40}$")
_TOP_LEVEL = ("defaults", "budgets_month_sek", "overrides")


class ThresholdsError(ValueError):
    """A threshold file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Override:
    municipality: str
    unit: str | None  # None: every unit of the municipality
    values: Mapping[str, float]
    budgets_month_sek: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Thresholds:
    defaults: Mapping[str, float]
    budgets: Mapping[str, float]
    overrides: tuple[Override, ...] = ()
    source: Path | None = field(default=None, compare=False)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every threshold kind, sorted (each has a default)."""
        return tuple(sorted(self.defaults))

    @property
    def budget_categories(self) -> tuple[str, ...]:
        return BUDGET_CATEGORIES

    def _layers(self, municipality: str, unit: str):
        # least specific first, so later layers win
        yield from (o for o in self.overrides if o.municipality == municipality and o.unit is None)
        yield from (o for o in self.overrides if o.municipality == municipality and o.unit == unit)

    def for_unit(self, municipality: str, unit: str) -> dict[str, float]:
        """The unit's effective thresholds: defaults, then municipality-wide, then unit overrides."""
        values = dict(self.defaults)
        for layer in self._layers(municipality, unit):
            values.update(layer.values)
        return values

    def budget_month_sek(self, municipality: str, unit: str) -> dict[str, float]:
        """The unit's monthly budget per category (SEK), most specific override winning."""
        budgets = dict(self.budgets)
        for layer in self._layers(municipality, unit):
            budgets.update(layer.budgets_month_sek)
        return budgets

    def overridden_units(self) -> tuple[tuple[str, str | None], ...]:
        """(municipality, unit or None) pairs named in overrides, in file order."""
        return tuple((o.municipality, o.unit) for o in self.overrides)


def budget_status(cost_sek: float, budget_sek: float, deviation_pct: float) -> str:
    """The board's rule (2024 report): green when cost <= budget (>= 100 % of budget kept),
    yellow when over by at most ``deviation_pct`` percent, red beyond. A zero budget with any
    cost is red. The alert rules encode the same rule in PromQL (dashboards/rules.py)."""
    if cost_sek <= budget_sek:
        return "green"
    if budget_sek <= 0:
        return "red"
    # multiplied out, so 102 against 100 with 2 % is exactly the boundary (yellow)
    return "yellow" if cost_sek * 100.0 <= budget_sek * (100.0 + deviation_pct) else "red"


# ------------------------------------------------------------------ loading and validation


def load_thresholds(path: Path | str | None = None) -> Thresholds:
    """Read and validate a thresholds file (default: the package's ``thresholds.yaml``).

    Raises :class:`ThresholdsError` naming the file and the offending key for unreadable or
    malformed YAML, unknown keys or kinds, missing defaults, negative or non-numeric values.
    """
    file = Path(path) if path is not None else DEFAULT_THRESHOLDS_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ThresholdsError(f"{file}: cannot read: {exc.strerror or exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ThresholdsError(f"{file}: invalid YAML{where}: {problem}") from None
    return parse_thresholds(raw, source=file)


def parse_thresholds(raw: Any, source: Path | None = None) -> Thresholds:
    """Validate an already-parsed mapping (what :func:`load_thresholds` does after reading)."""
    name = str(source) if source is not None else "<thresholds>"

    def fail(key: str, problem: str) -> ThresholdsError:
        return ThresholdsError(f"{name}: {key}: {problem}")

    if not isinstance(raw, dict):
        raise fail("(top level)", "expected a mapping with keys defaults, budgets_month_sek, overrides")
    for key in raw:
        if key not in _TOP_LEVEL:
            raise fail(str(key), f"unknown key (expected one of {', '.join(_TOP_LEVEL)})")

    defaults = _values(raw.get("defaults"), "defaults", fail)
    missing = sorted(set(KINDS) - set(defaults))
    if missing:
        raise fail("defaults", f"missing default for kind(s) {', '.join(missing)}")
    budgets = _budgets(raw.get("budgets_month_sek"), "budgets_month_sek", fail)
    missing = sorted(set(BUDGET_CATEGORIES) - set(budgets))
    if missing:
        raise fail("budgets_month_sek", f"missing budget for category(ies) {', '.join(missing)}")

    overrides_raw = raw.get("overrides") or []
    if not isinstance(overrides_raw, list):
        raise fail("overrides", "expected a list")
    overrides: list[Override] = []
    seen: set[tuple[str, str | None]] = set()
    for i, item in enumerate(overrides_raw):
        where = f"overrides[{i}]"
        if not isinstance(item, dict):
            raise fail(where, "expected a mapping with municipality, unit, values, budgets_month_sek")
        for key in item:
            if key not in ("municipality", "unit", "values", "budgets_month_sek"):
                raise fail(f"{where}.{key}", "unknown key")
        municipality = item.get("municipality")
        if isinstance(municipality, int):
            raise fail(f"{where}.municipality", "quote the code (\"0138\"): YAML reads it as a number")
        if not isinstance(municipality, str) or not _MUNICIPALITY.match(municipality):
            raise fail(f"{where}.municipality", f"expected a 4-digit SCB code as a string, got {municipality!r}")
        unit = item.get("unit")
        if unit in (None, "*"):
            unit = None
        elif not isinstance(unit, str) or not _UNIT.match(unit):
            raise fail(f"{where}.unit", f"expected [a-z0-9-]{{1,40}} or \"*\", got {unit!r}")
        if (municipality, unit) in seen:
            raise fail(where, f"second override for municipality {municipality} unit {unit or '*'}")
        seen.add((municipality, unit))
        values = _values(item.get("values"), f"{where}.values", fail, required=False)
        obudgets = _budgets(item.get("budgets_month_sek"), f"{where}.budgets_month_sek", fail, required=False)
        if not values and not obudgets:
            raise fail(where, "override sets neither values nor budgets_month_sek")
        overrides.append(Override(municipality, unit, MappingProxyType(values), MappingProxyType(obudgets)))

    return Thresholds(MappingProxyType(defaults), MappingProxyType(budgets), tuple(overrides), source)


def _number(value: Any, key: str, fail) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(key, f"expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise fail(key, f"expected a finite number, got {value!r}")
    if number < 0:
        raise fail(key, f"must not be negative, got {value!r}")
    return number


def _values(raw: Any, where: str, fail, required: bool = True) -> dict[str, float]:
    if raw is None and not required:
        return {}
    if not isinstance(raw, dict):
        raise fail(where, "expected a mapping of kind: value")
    out: dict[str, float] = {}
    for kind, value in raw.items():
        key = f"{where}.{kind}"
        if kind not in KINDS:
            raise fail(key, f"unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        number = _number(value, key, fail)
        upper = KINDS[kind][1]
        if upper is not None and number > upper:
            raise fail(key, f"must be at most {upper:g}, got {value!r}")
        out[kind] = number
    return out


def _budgets(raw: Any, where: str, fail, required: bool = True) -> dict[str, float]:
    if raw is None and not required:
        return {}
    if not isinstance(raw, dict):
        raise fail(where, "expected a mapping of category: SEK per month")
    out: dict[str, float] = {}
    for category, value in raw.items():
        key = f"{where}.{category}"
        if category not in BUDGET_CATEGORIES:
            raise fail(key, f"unknown budget category {category!r} (known: {', '.join(BUDGET_CATEGORIES)})")
        out[category] = _number(value, key, fail)
    return out
