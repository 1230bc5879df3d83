"""The monitoring mixin's artefacts (part of ``casewatch generate``, see dashboards/generate.py).

Writes (default ``dashboards/generated/``)::

    rules/recording.yaml  rules/alerts.yaml  rules/reference.yaml  alertmanager.yml  templates/casewatch.tmpl  prometheus.yml

Each of :data:`GENERATORS` takes the output directory and returns the paths it wrote; the
schema and the Grafana dashboards are written beside these by :mod:`dashboards.generate`.
``tests/unit/dashboards/test_mixin.py`` regenerates into a temporary directory and fails when the
committed files differ.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .alertmanager import TEMPLATE_FILE, render_alertmanager, render_template
from .config import DEFAULT_CONFIG, MixinConfig
from .prometheus_config import DEFAULT_RULE_FILES, render_prometheus_config
from .rules import render_alert_rules, render_recording_rules, render_reference_rules

PACKAGE_DIR = Path(__file__).resolve().parent
GENERATED_DIR = PACKAGE_DIR / "generated"
RUNBOOK_DIR = PACKAGE_DIR / "runbooks"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_rules(out: Path, cfg: MixinConfig = DEFAULT_CONFIG) -> list[Path]:
    return [
        _write(out / "rules" / "recording.yaml", render_recording_rules(cfg)),
        _write(out / "rules" / "alerts.yaml", render_alert_rules(cfg)),
        _write(out / "rules" / "reference.yaml", render_reference_rules()),
    ]


def write_alertmanager(out: Path, cfg: MixinConfig = DEFAULT_CONFIG, *, webhook_url: str | None = None,
                       group_wait: str | None = None, group_interval: str | None = None,
                       repeat_interval: str | None = None, email: bool = True) -> list[Path]:
    """alertmanager.yml plus its templates directory (the config refers to it relatively).
    Tests write a variant with their own webhook and short intervals into a temp dir."""
    return [
        _write(out / "alertmanager.yml", render_alertmanager(
            webhook_url, group_wait, group_interval, repeat_interval, email=email, cfg=cfg)),
        _write(out / "templates" / TEMPLATE_FILE, render_template()),
    ]


def write_prometheus(out: Path, cfg: MixinConfig = DEFAULT_CONFIG) -> list[Path]:
    return [_write(out / "prometheus.yml", render_prometheus_config(
        list(cfg.exporter_targets), list(cfg.alertmanager_targets), DEFAULT_RULE_FILES,
        cfg.scrape_interval, cfg.evaluation_interval, cfg=cfg,
    ))]


GENERATORS: list[Callable[[Path], list[Path]]] = [write_rules, write_alertmanager, write_prometheus]


def build(out: Path | None = None) -> list[Path]:
    out = Path(out) if out is not None else GENERATED_DIR
    written: list[Path] = []
    for generate in GENERATORS:
        written.extend(generate(out))
    return written
