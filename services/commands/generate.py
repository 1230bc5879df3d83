"""`casewatch generate`: write every committed artefact (the one generator; `make generate`).

The event JSON schema, the Prometheus rules, the Alertmanager and Prometheus configs, the
Grafana dashboards and the compose stack's Prometheus config. Tests regenerate each and fail
when a committed file has drifted.
"""
from __future__ import annotations

import typer


def generate_command() -> None:
    """Write every committed artefact: schema, rules, Alertmanager/Prometheus configs, dashboards."""
    from dashboards.generate import REPO_ROOT, generate_all

    for path in generate_all():
        typer.echo(f"wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
