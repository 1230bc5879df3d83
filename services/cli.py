"""The `casewatch` command line: thin wiring of the commands that live in their own modules."""
from __future__ import annotations

import typer

from dashboards.grafana.cli import app as dashboards_app

from .csv_import.cli import import_csv_command
from .dead_letter_tools import app as dlq_app
from .demo import demo_command
from .ingest_api.cli import app as ingest_api_app
from .exporter_command import exporter_command
from .ingest_command import ingest_command
from .replay_command import replay_command
from .simulator.cli import simulate_command
from .snapshot.backtest import backtest_command
from .snapshot.cli import ivo_report_command, snapshot_command
from .worker_command import worker_command
from .stack.cli import app as stack_app

app = typer.Typer(
    name="casewatch",
    help="Case-flow and capacity monitor for municipal social services (IFO).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Case-flow and capacity monitor for municipal social services (IFO)."""


app.command("replay")(replay_command)
app.command("simulate")(simulate_command)
app.command("demo")(demo_command)
app.command("ingest")(ingest_command)
app.command("exporter")(exporter_command)
app.command("worker")(worker_command)
app.command("import-csv")(import_csv_command)
app.add_typer(ingest_api_app, name="ingest-api", help="HTTP ingest service for case systems (bearer token per source)")
app.add_typer(dlq_app, name="dlq", help="Dead-letter tools: list reasons, re-submit after a fix")
app.command("snapshot")(snapshot_command)
app.command("ivo-report")(ivo_report_command)
app.command("backtest")(backtest_command)
app.add_typer(dashboards_app, name="dashboards", help="Grafana dashboards as code: build the JSON, push to a Grafana")
app.add_typer(stack_app, name="stack", help="Local Kafka (KRaft) and Redis (and Prometheus, Alertmanager) on loopback")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
