"""Assemble a month's snapshot content: figures, indicators, colours, economy, charts, text.

The *content* is what is frozen and compared between runs (a changed value makes a new
revision); run metadata (creation time, event counts of the file) lives beside it.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from streams.core.clocks import DEFAULT_CLOCKS, Clocks
from streams.core.ivo import Quarter
from streams.core.replay import Replay
from streams.core.timeutil import format_ts

from . import colours, narrative
from .config import BoardConfig, GoalArea, Indicator
from .economy import LedgerLine, economy
from .figures import (Month, caseload_of_investigating_units, data_through, facts_of, first_event_day,
                      municipality_figures, placements_by_unit, reports_by_day, unit_figures, weekly_inflow)
from .ivo import board_summary
from .labels import CLOCK_SERIES
from .suppress import suppress_table

SCHEMA = "casewatch.snapshot/2"

# Placement types grouped for the chart of active placements.
PLACEMENT_GROUPS = (
    ("HVB och SiS", ("hvb", "sis")),
    ("Familjehem", ("familjehem", "familjehem_arvoderat", "jourhem")),
    ("Övriga", ("skyddat_boende", "stodboende")),
)


def kpi_value(figures: dict, key: str):
    """A KPI from a figures dict; ``key.sub`` reads one entry of an object (missing = 0) and
    an object without ``.sub`` is summed."""
    name, _, sub = key.partition(".")
    value = figures.get(name)
    if isinstance(value, dict):
        return value.get(sub, 0) if sub else sum(value.values())
    return value


def indicator_value(figures: dict, indicator: Indicator):
    if not figures:
        return None
    if indicator.kpi is not None:
        return kpi_value(figures, indicator.kpi)
    num, den = (kpi_value(figures, k) for k in indicator.ratio)
    return None if not den else num / den


def _indicators(area: GoalArea, now: dict, before: dict, config: BoardConfig) -> list[dict]:
    out = []
    for ind in area.indicators:
        value, previous = indicator_value(now, ind), indicator_value(before, ind)
        out.append({
            "id": ind.id, "namn": ind.name, "kpi": ind.kpi, "format": ind.format, "riktning": ind.direction,
            "mal": ind.target, "gul_marginal": ind.yellow_margin,
            "varde": value, "foregaende_manad": previous,
            "bas": kpi_value(now, ind.base) if ind.base and now else None,
            "farg": colours.indicator_colour(value, ind.target, ind.direction, ind.yellow_margin),
            "forbattring": colours.improvement(value, previous, ind.target, ind.direction),
        })
    return out


def _area_state(area: GoalArea, now: dict, before: dict, econ_now: dict | None, econ_before: dict | None,
                config: BoardConfig) -> dict:
    if area.kind == "budget":
        colour = econ_now["farg"] if econ_now else None
        trend = colours.budget_trend(econ_now and econ_now["avvikelse_procent"],
                                     econ_before and econ_before["avvikelse_procent"],
                                     config.trend_tolerance_budget_pp)
        return {"farg": colour, "trend": trend, "indikatorer": []}
    indicators = _indicators(area, now, before, config)
    return {
        "farg": colours.area_colour([i["farg"] for i in indicators], config.green_from, config.yellow_from),
        "trend": colours.trend([i["forbattring"] for i in indicators], config.trend_tolerance),
        "indikatorer": indicators,
    }


def ivo_counts(facts, as_of: float, clocks: Clocks) -> dict[str, dict[str, int]]:
    """``{intervention: {under_3_man, over_3_man}}`` of decisions not enforced at ``as_of``."""
    out: dict[str, dict[str, int]] = {}
    for case in facts:
        for item in case.decisions:
            if item.made > as_of or (item.resolved is not None and item.resolved <= as_of):
                continue
            row = out.setdefault(item.intervention, {"under_3_man": 0, "over_3_man": 0})
            row["over_3_man" if as_of > clocks.enforcement.deadline(item.made) else "under_3_man"] += 1
    return {k: out[k] for k in sorted(out)}


def _month_data(facts, k: Month, clocks: Clocks) -> dict:
    """The raw counts a report publishes about month ``k``, by the smallest parts they sum."""
    figures = municipality_figures(facts, k.as_of, k.period, clocks)
    if figures:
        figures["caseload_per_social_worker"] = caseload_of_investigating_units(facts, k.as_of, k.period, clocks)
    return {
        "kommun": figures,
        "placeringar": placements_by_unit(facts, k.as_of),
        "ivo": ivo_counts(facts, k.as_of, clocks),
        "klockor": {key: (figures or {}).get(key, 0) for key, _label in CLOCK_SERIES},
    }


def build_content(replay: Replay, month: Month, config: BoardConfig, municipality: str,
                  narrative_dir: Path | None = None, ledger: list[LedgerLine] | None = None,
                  history: dict[str, dict] | None = None, clocks: Clocks = DEFAULT_CLOCKS,
                  cache: dict | None = None) -> dict:
    """The snapshot content for ``month``. ``history`` maps earlier months of the year
    (``YYYY-MM``) to their frozen content, whose grid marks are kept as the board saw them."""
    history = history or {}
    first_event = first_event_day(replay, municipality)
    months = month.months_of_year()
    per_month: dict[str, dict] = {}
    prev = month.months_of_year()[0].previous()
    prev_facts = facts_of(replay, municipality, prev.as_of)
    before_first = _month_data(prev_facts, prev, clocks)
    prev_figures = before_first["kommun"]
    facts = None
    # a month's figures do not depend on the report they appear in: ``cache`` (when given, for
    # the same events, board and ledger) spares recomputing them for each report of a year
    cache = {} if cache is None else cache
    for k in months:
        facts = facts_of(replay, municipality, k.as_of)
        if (municipality, str(k)) not in cache:
            cache[(municipality, str(k))] = {
                **_month_data(facts, k, clocks),
                "ekonomi": economy(config, facts, k, ledger, clocks, first_event),
            }
        per_month[str(k)] = cache[(municipality, str(k))]
    current = per_month[str(month)]

    area_ids = {a.number: a.id for a in config.goal_areas}
    texts = {str(k): narrative.load_month(narrative_dir, str(k), area_ids) for k in months}
    areas = []
    for area in config.goal_areas:
        grid = {}
        before_fig, before_econ = prev_figures, None
        state = None
        for k in months:
            key = str(k)
            data = per_month[key]
            state = _area_state(area, data["kommun"], before_fig, data["ekonomi"], before_econ, config)
            assessed = texts[key].areas.get(area.id, narrative.AreaText())
            mark = {"farg": assessed.colour or state["farg"], "farg_beraknad": state["farg"], "trend": state["trend"],
                    "kalla": "förvaltningen" if assessed.colour else "beräknad"}
            frozen = history.get(key)
            if frozen is not None and k != month:
                for old in frozen.get("malomraden", ()):
                    if old["id"] == area.id:
                        mark = {"farg": old["farg"], "farg_beraknad": old.get("farg_beraknad", old["farg"]),
                                "trend": old["trend"], "kalla": frozen.get("_revision", "fryst")}
            grid[key] = mark
            before_fig, before_econ = data["kommun"], data["ekonomi"]
        text = texts[str(month)].areas.get(area.id, narrative.AreaText())
        areas.append({
            "id": area.id, "nummer": area.number, "namn": area.name, "mal": area.goal, "typ": area.kind,
            "farg": text.colour or state["farg"], "farg_beraknad": state["farg"], "skal": text.reason,
            "bedomd_av": "förvaltningen" if text.colour else "beräknad",
            "trend": state["trend"], "indikatorer": state["indikatorer"], "manader": grid,
            "viktiga_handelser": text.events, "atgarder": text.actions,
        })

    units = unit_figures(replay, municipality, month)
    types = sorted({t for f in units.values() for t in f["placements_active"]})
    placing_units = sorted(u for u, f in units.items() if f["placements_active"])
    placements = suppress_table({t: {u: units[u]["placements_active"].get(t, 0) for u in placing_units} for t in types},
                                placing_units, config.suppress_below)

    first_week = min(date(month.year, 1, 1), month.first_day - timedelta(weeks=12))
    # the previous month's report reaches this far back too (its charts are audited with this one's)
    first_day_data = min(first_week, prev_month_first_week(month)) - timedelta(days=7)
    charts = {
        "inflode_per_vecka": [
            {"vecka": monday.isoformat(), "antal": n, "hel_vecka": complete}
            for monday, n, complete in weekly_inflow(facts, month.as_of, first_week, clocks)
        ],
        "balanser_per_manadsslut": [
            {"manad": key, **{k: data["kommun"].get(k, 0) if data["kommun"] else 0 for k, _ in CLOCK_SERIES}}
            for key, data in per_month.items()
        ],
        "placeringar_per_manadsslut": [
            {"manad": key, **{name: sum((data["kommun"] or {}).get("placements_active", {}).get(t, 0) for t in group)
                              for name, group in PLACEMENT_GROUPS}}
            for key, data in per_month.items()
        ],
        "kostnad_mot_budget": [
            {"manad": key, "utfall_ack": data["ekonomi"]["resultat"]["utfall_ack"],
             "budget_ack": data["ekonomi"]["resultat"]["budget_ack"],
             "arsprognos": data["ekonomi"]["resultat"]["arsprognos"]}
            for key, data in per_month.items()
        ],
    }
    included = {row["id"] for row in current["ekonomi"]["verksamheter"]}
    charts["budget_ack_jan_dec"] = [sum(a.budget_to_month(m) for a in config.activities if a.id in included)
                                    for m in range(1, 13)]
    text = texts[str(month)]
    return {
        "schema": SCHEMA,
        "manad": str(month),
        "kommun": municipality,
        "namnd": config.board,
        "forvaltning": config.administration,
        "as_of": format_ts(month.as_of),
        "period": month.period.as_json(),
        "figures": units,
        "kommun_totalt": current["kommun"],
        "malomraden": areas,
        "ekonomi": current["ekonomi"],
        "placeringar_tabell": placements.as_rows(),
        "ivo": board_summary(replay, municipality, month.as_of, Quarter.containing(month.first_day),
                             config.suppress_below, clocks),
        "diagram": charts,
        "berattelse": text.as_json(),
        "per_manad": {key: {k: v for k, v in data.items() if k in ("placeringar", "ivo", "klockor")}
                      for key, data in {str(prev): before_first, **per_month}.items()},
        "inflode_per_dag": reports_by_day(facts, month.as_of, first_day_data),
        # the placements table's columns: the activity a unit belongs to (units alone are too small)
        "verksamhet_per_enhet": {u: (config.activity_for_unit(u).name if config.activity_for_unit(u) else u)
                                 for data in per_month.values() for u in data["placeringar"]},
        "regler": {
            "undertryck_under": config.suppress_below,
            "trend_tolerans": config.trend_tolerance,
            "trend_tolerans_budget_pp": config.trend_tolerance_budget_pp,
            "budget_gul_procent": config.budget_yellow_pct,
            "sammanvagning": {"gron_fran": config.green_from, "gul_fran": config.yellow_from},
        },
        "underlag": {
            "forsta_handelse": first_event.isoformat() if first_event else None,
            "komplett_manad": replay.latest is not None and replay.latest >= month.as_of,
        },
    }


def prev_month_first_week(month: Month) -> date:
    prev = month.previous()
    return min(date(prev.year, 1, 1), prev.first_day - timedelta(weeks=12))


def run_meta(replay: Replay, config: BoardConfig, narrative_file: str | None, ledger_file: str | None,
             events_file: str | None) -> dict:
    return {
        "handelsefil": events_file,
        "data_till_och_med": data_through(replay),
        "handelser": {"accepterade": replay.accepted, "dubbletter": replay.duplicates,
                      "avvisade": sum(replay.rejected.values()),
                      "avvisade_per_orsak": dict(sorted(replay.rejected.items()))},
        "konfiguration": config.source,
        "troskelfil": config.thresholds_source,
        "berattelsefil": narrative_file,
        "huvudbok": ledger_file,
    }
