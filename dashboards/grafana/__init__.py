"""casewatch's Grafana dashboards as code (grafana-foundation-sdk), their build and push.

``build_all()`` returns every dashboard as a JSON-ready dict keyed by its stable uid;
``all_panel_queries()`` lists every panel query for tests (PromQL validity, metric names, and
the end-to-end check against a real Prometheus).
"""
from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Mapping, Optional

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from . import legal_deadlines, pipeline, placements, staffing, unit_overview
from .common import UID_PREFIX, panel_queries, threshold_defaults

DASHBOARD_MODULES: tuple[ModuleType, ...] = (unit_overview, legal_deadlines, placements, staffing, pipeline)


def uid_of(module: ModuleType) -> str:
    return UID_PREFIX + module.UID_SUFFIX


def file_name(uid: str) -> str:
    """``casewatch-unit-overview`` -> ``unit-overview.json``."""
    return uid.removeprefix(UID_PREFIX) + ".json"


def build_all(limits: Optional[Mapping[str, float]] = None,
              thresholds_path: Optional[Path] = None) -> dict[str, dict]:
    """Every dashboard as a plain dict (what Grafana stores), keyed by uid. ``limits`` defaults
    to the default thresholds of the shared config."""
    if limits is None:
        limits = threshold_defaults(thresholds_path)
    built: dict[str, dict] = {}
    for module in DASHBOARD_MODULES:
        model = module.build(limits).build()
        as_dict = json.loads(json.dumps(model, cls=JSONEncoder))
        if as_dict["uid"] in built:
            raise ValueError(f"duplicate dashboard uid {as_dict['uid']}")
        built[as_dict["uid"]] = as_dict
    return built


def render(dashboard_json: Mapping) -> str:
    """The committed form: sorted keys, two-space indent, UTF-8 text, trailing newline."""
    return json.dumps(dashboard_json, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def all_panel_queries(limits: Optional[Mapping[str, float]] = None) -> list[tuple[str, str, str]]:
    """``(dashboard uid, panel title, expr)`` for every panel query of every dashboard.

    Exprs still contain Grafana's variables (``$municipality``, ``$unit``,
    ``$__rate_interval``); see :func:`concrete_expr`."""
    found: list[tuple[str, str, str]] = []
    for dashboard_json in build_all(limits).values():
        found.extend(panel_queries(dashboard_json))
    return found


def concrete_expr(expr: str, municipality: str = ".*", unit: str = ".*", rate_interval: str = "5m") -> str:
    """An expr with Grafana's variables replaced, ready for Prometheus or promtool."""
    return (expr.replace("$__rate_interval", rate_interval)
            .replace("$municipality", municipality)
            .replace("$unit", unit))


__all__ = ["DASHBOARD_MODULES", "all_panel_queries", "build_all", "concrete_expr", "file_name", "render",
           "uid_of"]
