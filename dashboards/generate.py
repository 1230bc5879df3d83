"""The one generator behind `casewatch generate`: every committed artefact, in one call.

* ``streams/schema/case-event.v1.json`` (:mod:`streams.contract.schema`);
* ``dashboards/generated/``: rules, Alertmanager config and templates, prometheus.yml
  (:func:`dashboards.build.build`);
* ``dashboards/grafana/generated/*.json`` and ``deploy/prometheus/prometheus.compose.yml``
  (:func:`dashboards.grafana.build.write_all`).
"""
from __future__ import annotations

from pathlib import Path

from streams.contract.schema import SCHEMA_PATH, render as render_schema

from .build import build as build_mixin
from .grafana.build import write_all as write_grafana

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_schema() -> list[Path]:
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
    return [SCHEMA_PATH]


def generate_all() -> list[Path]:
    """Write every committed artefact; return the paths written."""
    return [*write_schema(), *build_mixin(), *write_grafana()]
