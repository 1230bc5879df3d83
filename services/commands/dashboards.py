"""``casewatch dashboards build|push|check``: the Grafana dashboards (dashboards/grafana/) and
the thresholds file check. ``casewatch generate`` writes every artefact at once."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(rich_markup_mode=None, 
    help="Grafana dashboards: build the JSON files, push them to a Grafana.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_TOKEN_ENV = "CASEWATCH_GRAFANA_TOKEN"

_THRESHOLDS = typer.Option(
    None, "--thresholds", exists=True, dir_okay=False,
    help="Thresholds file whose defaults become the threshold lines (default: dashboards/thresholds.yaml).")


def _shown(path: Path) -> str:
    from dashboards.grafana.build import REPO_ROOT

    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


@app.command("build")
def build_command(
    out: Optional[Path] = typer.Option(None, "--out", file_okay=False,
                                       help="Directory for the dashboard JSON files (default: dashboards/grafana/generated)."),
    compose_prometheus: Optional[Path] = typer.Option(
        None, "--compose-prometheus", dir_okay=False,
        help="Where to write the compose stack's prometheus.yml (default: deploy/prometheus/prometheus.compose.yml)."),
    no_compose_prometheus: bool = typer.Option(False, "--no-compose-prometheus",
                                               help="Write only the dashboards."),
    thresholds: Optional[Path] = _THRESHOLDS,
) -> None:
    """Write every dashboard as JSON (sorted keys) and the compose Prometheus config."""
    from dashboards.grafana.build import COMPOSE_PROMETHEUS_FILE, GENERATED_DIR, write_all

    out = out or GENERATED_DIR
    compose_prometheus = compose_prometheus or COMPOSE_PROMETHEUS_FILE
    for path in write_all(out, None if no_compose_prometheus else compose_prometheus, thresholds):
        typer.echo(f"wrote {_shown(path)}")


@app.command("push")
def push_command(
    url: str = typer.Option(..., "--url", help="Grafana base URL, e.g. http://127.0.0.1:3000"),
    token_env: str = typer.Option(DEFAULT_TOKEN_ENV, "--token-env",
                                  help="Name of the environment variable holding the service account token."),
    token: Optional[str] = typer.Option(None, "--token",
                                        help="The token itself (visible in the process list; prefer --token-env)."),
    thresholds: Optional[Path] = _THRESHOLDS,
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="Seconds per HTTP request."),
) -> None:
    """Create or update the folder 'casewatch' and every dashboard in it (overwrite)."""
    from dashboards.grafana import build_all
    from dashboards.grafana.push import PushError, push_dashboards

    secret = token if token is not None else os.environ.get(token_env, "")
    if not secret:
        typer.echo(f"error: no Grafana token: set {token_env} (or name another variable with --token-env)", err=True)
        raise typer.Exit(2)
    try:
        pushed = push_dashboards(url, secret, build_all(thresholds_path=thresholds), timeout=timeout)
    except PushError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for item in pushed:
        typer.echo(f"{item.status or 'ok'}: {item.title} ({item.uid}) version {item.version} {item.url}")


@app.command("check")
def check_command(thresholds: Optional[Path] = typer.Option(None, help="thresholds file to validate")) -> None:
    """Validate a thresholds file (default: dashboards/thresholds.yaml)."""
    from streams.thresholds import ThresholdsError, load_thresholds

    try:
        th = load_thresholds(thresholds)
    except ThresholdsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"ok: {th.source} ({len(th.kinds)} kinds, {len(th.overrides)} overrides)")
