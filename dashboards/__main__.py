"""``python -m dashboards build [--out DIR]``: regenerate the monitoring mixin's committed files."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .build import GENERATED_DIR, build as build_all

app = typer.Typer(help="casewatch monitoring mixin: rules, Alertmanager and Prometheus configs.",
                  no_args_is_help=True, add_completion=False)


@app.command()
def build(out: Optional[Path] = typer.Option(None, help=f"output directory (default {GENERATED_DIR})")) -> None:
    """Regenerate rules, alertmanager.yml, templates and prometheus.yml."""
    for path in build_all(out):
        typer.echo(f"wrote {path}")


@app.command()
def check(thresholds: Optional[Path] = typer.Option(None, help="thresholds file to validate")) -> None:
    """Validate a thresholds file (default: dashboards/thresholds.yaml)."""
    from streams.thresholds import ThresholdsError, load_thresholds

    try:
        th = load_thresholds(thresholds)
    except ThresholdsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"ok: {th.source} ({len(th.kinds)} kinds, {len(th.overrides)} overrides)")


if __name__ == "__main__":
    app(prog_name="python -m dashboards")
