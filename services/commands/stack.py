"""`casewatch stack up|down|status|env|install`: the local stack (services/stack/lifecycle.py)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


app = typer.Typer(rich_markup_mode=None, 
    help="Local stack for development and integration tests: Kafka (KRaft) and Redis, "
    "optionally Prometheus and Alertmanager; all on 127.0.0.1.",
    no_args_is_help=True,
    add_completion=False,
)


def _fail(exc: Exception) -> None:
    typer.echo(f"casewatch stack: {exc}", err=True)
    raise typer.Exit(1)


@app.command()
def up(
    with_monitoring: bool = typer.Option(False, "--with-monitoring", help="Also start Prometheus and Alertmanager."),
    prometheus_config: Optional[Path] = typer.Option(
        None, help="Prometheus config (default: dashboards/generated/prometheus.yml if present, else a minimal one)."
    ),
    alertmanager_config: Optional[Path] = typer.Option(
        None, help="Alertmanager config (default: dashboards/generated/alertmanager.yml if present, else a minimal one)."
    ),
    no_install: bool = typer.Option(False, "--no-install", help="Do not apt-get/mvn anything; fail if missing."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for Kafka to become ready."),
) -> None:
    """Install what is missing, start the stack (or reuse it) and wait until it answers."""
    from services.stack.state import StackError

    try:
        from services.stack.lifecycle import up_stack

        stack = up_stack(with_monitoring, prometheus_config, alertmanager_config, install=not no_install, timeout=timeout)
    except StackError as exc:
        _fail(exc)
    for name, entry in stack.items():
        where = entry.get("bootstrap") or entry.get("url")
        typer.echo(f"{name:13} {where:32} pid {entry['pid']:<8} {'started' if entry['started'] else 'reused'}")


@app.command()
def down(keep_data: bool = typer.Option(False, "--keep-data", help="Stop the processes but keep their data.")) -> None:
    """Stop every service of the stack (SIGTERM, then SIGKILL) and delete its data."""
    from services.stack.lifecycle import down_stack

    stopped = down_stack(keep_data=keep_data)
    typer.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show what runs and where. Exits 1 when a recorded service is not healthy."""
    from services.stack.state import stack_dir

    from services.stack.lifecycle import stack_status

    st = stack_status()
    if as_json:
        typer.echo(json.dumps(st, indent=2, sort_keys=True))
    elif not st:
        typer.echo(f"no stack recorded in {stack_dir()} (run `casewatch stack up`)")
    else:
        for name, entry in st.items():
            where = entry.get("bootstrap") or entry.get("url")
            typer.echo(f"{name:13} {where:32} pid {entry['pid']:<8} {'healthy' if entry['healthy'] else 'NOT HEALTHY'}")
    if any(not e["healthy"] for e in st.values()):
        raise typer.Exit(1)


@app.command()
def env() -> None:
    """Print `export CASEWATCH_...=...` lines for the running stack (use with eval)."""
    from services.stack.lifecycle import env_lines

    lines = env_lines()
    if not lines:
        typer.echo("casewatch stack: nothing is running; run `casewatch stack up` first", err=True)
        raise typer.Exit(1)
    typer.echo("\n".join(lines))


@app.command("install")
def install_cmd(with_monitoring: bool = typer.Option(True, help="Also Prometheus and Alertmanager.")) -> None:
    """Only install the binaries and the Kafka jars (what `up` does first)."""
    from services.stack.state import StackError

    try:
        from services.stack import install as installer

        libs = installer.install(with_monitoring=with_monitoring)
    except StackError as exc:
        _fail(exc)
    typer.echo(str(libs))


