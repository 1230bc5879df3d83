"""The board's goal areas, indicators, targets, colour rules and budgets (``board.yaml``).

Loaded from ``services/snapshot/board.yaml`` by default or from a file the user names, checked
at load time so that a typo fails before anything is computed. Targets marked ``mal_troskel``
come from the dashboards' threshold file, the one source of thresholds in casewatch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from streams.core.kpis import KPI_KEYS

DEFAULT_CONFIG = Path(__file__).with_name("board.yaml")

COST_SOURCES = ("placeringar", "konsulter", "ekonomiskt_bistand", "huvudbok")
FORMATS = ("antal", "procent", "decimal", "dagar", "kronor")
DIRECTIONS = ("lagre", "hogre")


class ConfigError(ValueError):
    """board.yaml (or the file given) does not describe a usable board."""


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    direction: str  # "lagre": lower is better; "hogre": higher is better
    target: float
    yellow_margin: float
    format: str = "antal"
    kpi: str | None = None  # KPI key, optionally "key.subkey" for objects
    ratio: tuple[str, str] | None = None  # (numerator KPI, denominator KPI)
    base: str | None = None  # KPI whose count the value rests on (a mean of < 5 items is hidden)
    threshold_key: str | None = None


@dataclass(frozen=True)
class GoalArea:
    id: str
    number: int
    name: str
    goal: str
    kind: str  # "indikatorer" or "budget"
    indicators: tuple[Indicator, ...] = ()


@dataclass(frozen=True)
class Activity:
    id: str
    name: str
    unit_patterns: tuple[str, ...]
    sources: tuple[str, ...]
    annual_budget_sek: float
    month_weights: tuple[float, ...] = (1.0,) * 12
    last_year_sek: float | None = None  # the outcome of the year before the report's, whichever year
    ledger_codes: tuple[str, ...] = ()  # the ledger's cost centres (SIE objects) of this activity
    outcomes_sek: tuple[tuple[int, float], ...] = ()  # (year, outcome) from the annual accounts

    def outcome_of(self, year: int) -> float | None:
        """The configured outcome of ``year``: by year when given so, else the plain value."""
        if self.outcomes_sek:
            return dict(self.outcomes_sek).get(year)
        return self.last_year_sek

    def owns(self, unit: str) -> bool:
        return any(fnmatchcase(unit, pattern) for pattern in self.unit_patterns)

    def budget_to_month(self, month: int) -> float:
        """Budget for January..``month`` (the budget's months weighted as configured)."""
        weights = self.month_weights
        return self.annual_budget_sek * sum(weights[:month]) / sum(weights)


@dataclass(frozen=True)
class BoardConfig:
    board: str
    administration: str
    goal_areas: tuple[GoalArea, ...]
    activities: tuple[Activity, ...]
    suppress_below: int = 5
    trend_tolerance: float = 0.05
    trend_tolerance_budget_pp: float = 0.5
    green_from: float = 1.5
    yellow_from: float = 0.75
    budget_yellow_pct: float = 2.0
    events_complete_from: date | None = None  # from when the events hold every case (not only open ones)
    ledger_dimension: str = "1"
    ledger_exclude_accounts: tuple[str, ...] = ()
    source: str = ""
    thresholds_source: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def activity_for_unit(self, unit: str) -> Activity | None:
        for activity in self.activities:
            if activity.owns(unit):
                return activity
        return None


def _need(mapping: dict, key: str, where: str):
    if key not in mapping:
        raise ConfigError(f"{where}: '{key}' saknas")
    return mapping[key]


def _check_kpi(name: str, where: str) -> None:
    if name.split(".", 1)[0] not in KPI_KEYS:
        raise ConfigError(f"{where}: okänt nyckeltal '{name}' (se CONTRACT.md §4)")


def load_thresholds(path: Path | None = None, municipality: str | None = None) -> tuple[dict, str | None]:
    """The threshold file's defaults with the municipality's override (unit ``*``/absent)
    applied, and the file read. The file is read and validated by :mod:`streams.thresholds`;
    the caller passes ``Settings.thresholds_file`` (None: the default file)."""
    from streams.thresholds import ThresholdsError, load_thresholds as load_threshold_file

    try:
        thresholds = load_threshold_file(path)
    except ThresholdsError as exc:
        raise ConfigError(str(exc)) from None
    # No unit name matches "": only the defaults and municipality-wide overrides apply.
    values = thresholds.for_unit(municipality, "") if municipality else dict(thresholds.defaults)
    return values, str(thresholds.source)


def _indicator(raw: dict, where: str, thresholds: dict) -> Indicator:
    ident = str(_need(raw, "id", where))
    where = f"{where} indikator {ident}"
    kpi = raw.get("kpi")
    ratio = raw.get("kvot")
    if (kpi is None) == (ratio is None):
        raise ConfigError(f"{where}: ange antingen 'kpi' eller 'kvot'")
    if kpi is not None:
        _check_kpi(str(kpi), where)
    if ratio is not None:
        if len(ratio) != 2:
            raise ConfigError(f"{where}: 'kvot' ska vara [täljare, nämnare]")
        for name in ratio:
            _check_kpi(str(name), where)
        ratio = (str(ratio[0]), str(ratio[1]))
    direction = str(raw.get("riktning", "lagre"))
    if direction not in DIRECTIONS:
        raise ConfigError(f"{where}: riktning ska vara en av {DIRECTIONS}")
    fmt = str(raw.get("format", "antal"))
    if fmt not in FORMATS:
        raise ConfigError(f"{where}: format ska vara ett av {FORMATS}")
    target = raw.get("mal")
    threshold_key = raw.get("mal_troskel")
    if threshold_key and threshold_key in thresholds:
        target = thresholds[threshold_key]
    if target is None:
        raise ConfigError(f"{where}: 'mal' saknas")
    base = raw.get("bas")
    if base is not None:
        _check_kpi(str(base), where)
    return Indicator(
        id=ident, name=str(raw.get("namn", ident)), direction=direction, target=float(target),
        yellow_margin=float(raw.get("gul_marginal", 0)), format=fmt,
        kpi=None if kpi is None else str(kpi), ratio=ratio, base=None if base is None else str(base),
        threshold_key=threshold_key,
    )


def _date(value, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: handelser_fullstandiga_fran ska vara ett datum ÅÅÅÅ-MM-DD") from None


def load_config(path: Path | str | None = None, municipality: str | None = None,
                thresholds_path: Path | None = None) -> BoardConfig:
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"kan inte läsa {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: ogiltig YAML: {exc}") from None
    thresholds, thresholds_source = load_thresholds(thresholds_path, municipality)

    areas = []
    seen = set()
    for i, area in enumerate(_need(raw, "malomraden", str(path))):
        where = f"{path}: malomraden[{i}]"
        ident = str(_need(area, "id", where))
        if ident in seen:
            raise ConfigError(f"{where}: id '{ident}' förekommer två gånger")
        seen.add(ident)
        kind = "budget" if area.get("typ") == "budget" else "indikatorer"
        indicators = tuple(_indicator(ind, where, thresholds) for ind in area.get("indikatorer") or ())
        if kind == "indikatorer" and not indicators:
            raise ConfigError(f"{where}: målområdet har inga indikatorer")
        areas.append(GoalArea(ident, int(area.get("nummer", i + 1)), str(_need(area, "namn", where)),
                              " ".join(str(area.get("mal", "")).split()), kind, indicators))

    activities = []
    for i, act in enumerate(_need(raw, "verksamheter", str(path))):
        where = f"{path}: verksamheter[{i}]"
        sources = tuple(str(s) for s in act.get("kostnader") or ())
        unknown = set(sources) - set(COST_SOURCES)
        if unknown:
            raise ConfigError(f"{where}: okända kostnadsslag {sorted(unknown)}; tillåtna: {COST_SOURCES}")
        weights = tuple(float(w) for w in act.get("budgetfordelning") or (1.0,) * 12)
        if len(weights) != 12 or sum(weights) <= 0 or min(weights) < 0:
            raise ConfigError(f"{where}: budgetfordelning ska ha 12 icke-negativa vikter")
        last = act.get("utfall_foregaende_ar_sek")
        by_year: tuple[tuple[int, float], ...] = ()
        if isinstance(last, dict):
            try:
                by_year = tuple(sorted((int(y), float(v)) for y, v in last.items()))
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: utfall_foregaende_ar_sek ska vara ett belopp eller år: belopp") from None
            last = None
        activities.append(Activity(
            id=str(_need(act, "id", where)), name=str(_need(act, "namn", where)),
            unit_patterns=tuple(str(p) for p in act.get("enheter") or ()), sources=sources,
            annual_budget_sek=float(_need(act, "arsbudget_sek", where)), month_weights=weights,
            last_year_sek=None if last is None else float(last),
            ledger_codes=tuple(str(c) for c in act.get("kostnadsstallen") or ()), outcomes_sek=by_year,
        ))
    weighting = raw.get("sammanvagning") or {}
    budget_pct = raw.get("budget_gul_procent")
    if budget_pct is None:
        budget_pct = thresholds.get("budget_deviation_pct", 2.0)
    return BoardConfig(
        board=str(raw.get("namnd", "Socialnämnden")), administration=str(raw.get("forvaltning", "")),
        goal_areas=tuple(areas), activities=tuple(activities),
        suppress_below=int(raw.get("undertryck_under", 5)),
        trend_tolerance=float(raw.get("trend_tolerans", 0.05)),
        trend_tolerance_budget_pp=float(raw.get("trend_tolerans_budget_pp", 0.5)),
        green_from=float(weighting.get("gron_fran", 1.5)), yellow_from=float(weighting.get("gul_fran", 0.75)),
        budget_yellow_pct=float(budget_pct),
        events_complete_from=_date(raw.get("handelser_fullstandiga_fran"), str(path)),
        ledger_dimension=str((raw.get("huvudbok") or {}).get("dimension", "1")),
        ledger_exclude_accounts=tuple(str(a) for a in (raw.get("huvudbok") or {}).get("utom_konton") or ()),
        source=str(path), thresholds_source=thresholds_source, raw=raw,
    )
