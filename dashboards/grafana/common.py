"""Shared pieces of every casewatch dashboard: datasource, variables, the one label selector,
thresholds from the shared config, and small typed panel helpers on grafana-foundation-sdk.

Every query's ``{municipality=~"$municipality", unit=~"$unit"}`` is built by :func:`sel`;
every threshold value comes from :func:`threshold_defaults` (the ``defaults`` of
``dashboards/thresholds.yaml`` via ``streams.thresholds.load_thresholds``). Dashboards show the
default value as a dashed line or colour step; where a unit has an override, the panels that
matter also draw ``casewatch_threshold{kind=...}`` so the unit's own value is visible.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from grafana_foundation_sdk.builders import bargauge, common as common_builders, dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.models import common as common_models, units
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from dashboards.alert_text import MUNICIPALITY_INFO

UID_PREFIX = "casewatch-"
TAG = "casewatch"
FOLDER_UID = "casewatch"
FOLDER_TITLE = "casewatch"

# The provisioned Prometheus datasource (deploy/grafana/provisioning/datasources/prometheus.yaml).
# Panels refer to it through the ${datasource} variable so the dashboards also work when pushed
# to a Grafana whose Prometheus has another uid.
DATASOURCE_UID = "casewatch-prometheus"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")

# The metric whose label values populate the municipality and unit variables.
VARIABLE_SOURCE_METRIC = "casewatch_investigations_open"

# Colours (Grafana's named palette).
GREEN, YELLOW, RED, BLUE, GREY = "green", "yellow", "red", "blue", "text"

# Units, from the SDK's constants.
COUNT = units.Short
# Money as the board reads it: whole kronor for prices, tkr for month sums (Grafana's own
# currency unit abbreviates in English, "2.1 Mil"); vårddygn are a plain count, never a duration.
KR = "suffix: kr"
TKR = "suffix: tkr"
PLAIN = units.NoUnit
SHARE = units.PercentUnit
SECONDS = units.Seconds
FTE = units.NoUnit


# --------------------------------------------------------------------------- thresholds

def threshold_defaults(path: Optional[Path] = None) -> dict[str, float]:
    """The default value of every threshold kind, from the shared thresholds config.

    The one place the dashboards read thresholds; every dashboard takes the returned mapping
    as an argument so tests can build them with other values."""
    from streams.thresholds import load_thresholds

    return {kind: float(value) for kind, value in load_thresholds(path).defaults.items()}


# --------------------------------------------------------------------------- selectors

def sel(metric: str, **labels: str) -> str:
    """``metric{municipality=~"$municipality", unit=~"$unit", <labels>}``: the one selector
    for unit-level metrics; extra labels are exact matches."""
    matchers = ['municipality=~"$municipality"', 'unit=~"$unit"']
    matchers += [f'{name}="{value}"' for name, value in labels.items()]
    return f"{metric}{{{', '.join(matchers)}}}"


def plain(metric: str, **labels: str) -> str:
    """``metric{<labels>}`` for the pipeline metrics, which carry no unit label."""
    if not labels:
        return metric
    return metric + "{" + ", ".join(f'{name}="{value}"' for name, value in labels.items()) + "}"


def by(labels: str, function: str, inner: str) -> str:
    """``function by (labels) (inner)``."""
    return f"{function} by ({labels}) ({inner})"


def ratio(numerator: str, denominator: str) -> str:
    """``numerator / (denominator > 0)``: series with a zero denominator are dropped, not +Inf."""
    return f"{numerator} / ({denominator} > 0)"


UNIT_LABELS = "municipality, unit"
UNIT_LEGEND = "{{enhet}}"  # see per_unit


def per_unit(function: str, metric: str, **labels: str) -> str:
    """``function by (municipality, unit) (metric{...})`` plus the label ``enhet``: the unit's
    display name from the registry, else its code (legend :data:`UNIT_LEGEND`)."""
    from .vocabulary import with_unit_name

    return with_unit_name(by(UNIT_LABELS, function, sel(metric, **labels)), sel("casewatch_unit_info"))


def in_tkr(expr: str) -> str:
    return f"({expr}) / 1000"


# --------------------------------------------------------------------------- variables

def datasource_variable() -> dashboard.DatasourceVariable:
    return (
        dashboard.DatasourceVariable("datasource")
        .label("Datakälla")
        .type("prometheus")
        .current(VariableOption(selected=True, text="Prometheus", value=DATASOURCE_UID))
    )


def _label_variable(name: str, label: str, query: str, description: str) -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .description(description)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )


# The municipality drop-down shows names ("Tyresö kommun") and selects by SCB code: the
# municipalities with figures, named by the generated reference series (rules.py, "casewatch.reference"),
# a code missing from SCB's table as "kommunkod 9999"; the labels of a query_result line come
# sorted (municipality, name), so the regex reads the value before the text.
MUNICIPALITY_CHOICES = (
    f'max by (municipality, name) ({MUNICIPALITY_INFO}) and on (municipality) {VARIABLE_SOURCE_METRIC} '
    f'or on (municipality) label_replace(max by (municipality) ({VARIABLE_SOURCE_METRIC}), '
    f'"name", "kommunkod $1", "municipality", "(.+)")')
MUNICIPALITY_CHOICE_REGEX = '/municipality="(?<value>[^"]*)".*name="(?<text>[^"]*)"/'


def municipality_variable() -> dashboard.QueryVariable:
    return _label_variable(
        "municipality", "Kommun", f"query_result({MUNICIPALITY_CHOICES})",
        "Kommuner med siffror, med namn enligt SCB:s kommunkoder.").regex(MUNICIPALITY_CHOICE_REGEX)


# The unit drop-down shows the unit registry's display names (casewatch_unit_info's ``name``) and
# selects by unit code: one series per unit, named by the registry where it names the unit, else
# by its code; Grafana's regex takes the option's text and value from the named groups (the
# labels of a query_result line come sorted: municipality, name, unit).
UNIT_CHOICES = (
    f'max by (municipality, unit, name) (casewatch_unit_info{{municipality=~"$municipality"}}) '
    f'or on (municipality, unit) label_replace(max by (municipality, unit) '
    f'({VARIABLE_SOURCE_METRIC}{{municipality=~"$municipality"}}), "name", "$1", "unit", "(.+)")')
UNIT_CHOICE_REGEX = '/name="(?<text>[^"]*)".*unit="(?<value>[^"]*)"/'


def unit_variable() -> dashboard.QueryVariable:
    return _label_variable(
        "unit", "Enhet", f"query_result({UNIT_CHOICES})",
        "Enheter i valda kommuner, med namnen i enhetsregistret.").regex(UNIT_CHOICE_REGEX)


# --------------------------------------------------------------------------- dashboards

def new_dashboard(uid_suffix: str, title: str, description: str, *, unit_variables: bool = True,
                  time_from: str = "now-7d") -> dashboard.Dashboard:
    """A dashboard with casewatch's uid, tags, links to its siblings and the variables."""
    builder = (
        dashboard.Dashboard(title)
        .uid(UID_PREFIX + uid_suffix)
        .description(description)
        .tags([TAG])
        .editable()
        .timezone("browser")
        .week_start("monday")
        .time(time_from, "now")
        .refresh("1m")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .link(
            dashboard.DashboardLink("casewatch")
            .type("dashboards")
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
        .with_variable(datasource_variable())
    )
    if unit_variables:
        builder = builder.with_variable(municipality_variable()).with_variable(unit_variable())
    return builder


def assemble(builder: dashboard.Dashboard, *sections: Sequence) -> dashboard.Dashboard:
    """Add rows and panels in order (a :class:`Row` starts a row, panels follow it), numbering
    them 1, 2, ... so panel ids are unique and stable."""
    panel_id = 0
    for section in sections:
        for item in section:
            panel_id += 1
            item = item.id(panel_id)
            builder = builder.with_row(item) if isinstance(item, dashboard.Row) else builder.with_panel(item)
    return builder


# --------------------------------------------------------------------------- queries and panels

@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


def _target(query: Query, ref_id: str) -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(query.expr).ref_id(ref_id).datasource(DATASOURCE)
    if query.legend:
        target = target.legend_format(query.legend)
    return target.instant() if query.instant else target.range()


def _thresholds(steps: Sequence[tuple[Optional[float], str]]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=color) for value, color in steps])
    )


def above(limit: float) -> list[tuple[Optional[float], str]]:
    """Green below the limit, red at or above it."""
    return [(None, GREEN), (limit, RED)]


def any_is_bad() -> list[tuple[Optional[float], str]]:
    """Green at zero, red from one: any overdue case is a breach of a legal time limit."""
    return [(None, GREEN), (1, RED)]


NO_STEPS: list[tuple[Optional[float], str]] = [(None, GREEN)]


def _common(panel, title: str, description: str, unit: str, queries: Iterable[Query],
            steps: Sequence[tuple[Optional[float], str]], span: int, height: int):
    panel = (
        panel.title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(span)
        .height(height)
        .thresholds(_thresholds(steps))
    )
    for index, query in enumerate(queries):
        panel = panel.with_target(_target(query, chr(ord("A") + index)))
    return panel


def timeseries_panel(title: str, description: str, unit: str, queries: Sequence[Query], *,
                     steps: Sequence[tuple[Optional[float], str]] = NO_STEPS, stacked: bool = False,
                     span: int = 12, height: int = 8, decimals: Optional[float] = None,
                     dashed_series: Sequence[str] = (), colors: Optional[Mapping[str, str]] = None,
                     names: Optional[Mapping[str, str]] = None) -> timeseries.Panel:
    """A time series; threshold steps beyond the base are drawn as dashed lines."""
    panel = _common(timeseries.Panel(), title, description, unit, queries, steps, span, height)
    panel = (
        panel.min(0)
        .line_width(2)
        .fill_opacity(30 if stacked else 10)
        .legend(common_builders.VizLegendOptions()
                .display_mode(common_models.LegendDisplayMode.TABLE)
                .placement(common_models.LegendPlacement.BOTTOM)
                .show_legend(True)
                .calcs(["lastNotNull", "max"]))
        .tooltip(common_builders.VizTooltipOptions()
                 .mode(common_models.TooltipDisplayMode.MULTI)
                 .sort(common_models.SortOrder.DESCENDING))
        .thresholds_style(common_builders.GraphThresholdsStyleConfig().mode(
            common_models.GraphThresholdsStyleMode.DASHED if len(steps) > 1
            else common_models.GraphThresholdsStyleMode.OFF))
    )
    if stacked:
        panel = panel.stacking(common_builders.StackingConfig().mode(common_models.StackingMode.NORMAL))
    if decimals is not None:
        panel = panel.decimals(decimals)
    for name in dashed_series:  # e.g. the "normal" or threshold series: dashed, not filled
        panel = panel.override_by_regexp(name, [
            _property("custom.lineStyle", {"dash": [10, 10], "fill": "dash"}),
            _property("custom.fillOpacity", 0),
            _property("custom.stacking", {"group": "A", "mode": "none"}),
        ])
    return series_overrides(panel, colors=colors, names=names)


def stat_panel(title: str, description: str, unit: str, queries: Sequence[Query], *,
               steps: Sequence[tuple[Optional[float], str]] = NO_STEPS, span: int = 6, height: int = 5,
               decimals: Optional[float] = None, mappings: Optional[Mapping[str, tuple[str, str]]] = None,
               ) -> stat.Panel:
    """A big number (the last value) coloured by the threshold steps, with a sparkline."""
    panel = _common(stat.Panel(), title, description, unit, queries, steps, span, height)
    panel = (
        panel.graph_mode(common_models.BigValueGraphMode.AREA)
        .color_mode(common_models.BigValueColorMode.BACKGROUND)
        .text_mode(common_models.BigValueTextMode.AUTO)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if decimals is not None:
        panel = panel.decimals(decimals)
    if mappings:
        panel = panel.mappings([ValueMap(options={
            value: ValueMappingResult(text=text, color=color) for value, (text, color) in mappings.items()})])
    return panel


def bargauge_panel(title: str, description: str, unit: str, queries: Sequence[Query], *,
                   steps: Sequence[tuple[Optional[float], str]] = NO_STEPS, span: int = 12, height: int = 8,
                   decimals: Optional[float] = None, maximum: Optional[float] = None) -> bargauge.Panel:
    """Horizontal bars, one per series (e.g. per unit), coloured by the threshold steps."""
    panel = _common(bargauge.Panel(), title, description, unit, queries, steps, span, height)
    panel = (
        panel.min(0)
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .display_mode(common_models.BarGaugeDisplayMode.GRADIENT)
        .show_unfilled(True)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if decimals is not None:
        panel = panel.decimals(decimals)
    if maximum is not None:
        panel = panel.max(maximum)
    return panel


def series_overrides(panel, *, colors: Optional[Mapping[str, str]] = None,
                     names: Optional[Mapping[str, str]] = None):
    """Fixed colours and Swedish display names for series matched by their (legend) name."""
    for series, color in sorted((colors or {}).items()):
        panel = panel.override_by_name(series, [_property("color", {"mode": "fixed", "fixedColor": color})])
    for series, display in sorted((names or {}).items()):
        panel = panel.override_by_name(series, [_property("displayName", display)])
    return panel


def row(title: str) -> dashboard.Row:
    return dashboard.Row(title)


def _property(prop_id: str, value: object) -> DynamicConfigValue:
    return DynamicConfigValue(id_val=prop_id, value=value)


# --------------------------------------------------------------------------- introspection

def panel_queries(dashboard_json: Mapping) -> list[tuple[str, str, str]]:
    """``(dashboard uid, panel title, expr)`` for every query of a built dashboard (rows and
    collapsed rows included), in panel order."""
    found: list[tuple[str, str, str]] = []

    def walk(panels) -> None:
        for panel in panels or []:
            for target in panel.get("targets") or []:
                if target.get("expr"):
                    found.append((dashboard_json["uid"], panel.get("title", ""), target["expr"]))
            walk(panel.get("panels"))

    walk(dashboard_json.get("panels"))
    return found

