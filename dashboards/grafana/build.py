"""Write the dashboards (and the compose stack's Prometheus config) as reviewable files.

    casewatch generate                            # every artefact; or: casewatch dashboards build

writes ``dashboards/grafana/generated/<name>.json`` (sorted keys, trailing newline; files of
dashboards that no longer exist are removed) and ``deploy/prometheus/prometheus.compose.yml``.
Tests regenerate into a temporary directory and compare with the committed files.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from . import build_all, file_name, render

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATED_DIR = Path(__file__).resolve().parent / "generated"
COMPOSE_PROMETHEUS_FILE = REPO_ROOT / "deploy" / "prometheus" / "prometheus.compose.yml"

# Inside the compose network (docker-compose.yml): service names and the mount points of the
# generated rule files.
COMPOSE_EXPORTER_TARGETS = ("casewatch-exporter:9464",)
COMPOSE_ALERTMANAGER_TARGETS = ("alertmanager:9093",)
COMPOSE_HEADER = ("# prometheus.yml for docker-compose.yml (service names as targets), written by\n"
                  "# `casewatch generate`. Do not edit.\n")
COMPOSE_RULE_FILES = ("/etc/prometheus/rules/*.yml", "/etc/prometheus/rules/*.yaml")


def dashboard_files(limits: Optional[Mapping[str, float]] = None,
                    thresholds_path: Optional[Path] = None) -> dict[str, str]:
    """File name -> committed text of every dashboard."""
    return {file_name(uid): render(model) for uid, model in build_all(limits, thresholds_path).items()}


def compose_prometheus_config() -> str:
    """prometheus.yml for the compose stack: scrape the exporter service, alert via the
    alertmanager service, load the generated rules from their mount point."""
    from dashboards.config import DEFAULT_CONFIG
    from dashboards.prometheus_config import HEADER, render_prometheus_config

    return COMPOSE_HEADER + render_prometheus_config(
        list(COMPOSE_EXPORTER_TARGETS), list(COMPOSE_ALERTMANAGER_TARGETS), list(COMPOSE_RULE_FILES),
        DEFAULT_CONFIG.scrape_interval, DEFAULT_CONFIG.evaluation_interval, cfg=DEFAULT_CONFIG).removeprefix(HEADER)


def write_all(out_dir: Path = GENERATED_DIR, compose_prometheus: Optional[Path] = COMPOSE_PROMETHEUS_FILE,
              thresholds_path: Optional[Path] = None) -> list[Path]:
    """Write every dashboard into ``out_dir`` (and the compose Prometheus config unless None);
    return the files written. Stale dashboard files in ``out_dir`` are removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = dashboard_files(thresholds_path=thresholds_path)
    for stale in sorted(out_dir.glob("*.json")):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in sorted(files.items()):
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if compose_prometheus is not None:
        compose_prometheus.parent.mkdir(parents=True, exist_ok=True)
        compose_prometheus.write_text(compose_prometheus_config(), encoding="utf-8")
        written.append(compose_prometheus)
    return written
