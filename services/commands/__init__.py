"""The `casewatch` command line, the top floor: one thin module per command group.

Each module imports only typer at load; the heavy libraries (Kafka, Faust, pydantic-settings,
the Grafana SDK, WeasyPrint, Starlette, ...) are imported inside the command that needs them,
so ``casewatch --help`` answers at once. Only this package may import every floor.
"""
from __future__ import annotations

import typer

from .board import app as board_app
from .dashboards import app as dashboards_app
from .demo import demo_command
from .dlq import app as dlq_app
from .exporter import exporter_command
from .gallra import gallra_command
from .generate import generate_command
from .import_csv import import_csv_command
from .ingest import ingest_command
from .ingest_api import app as ingest_api_app
from .replay import replay_command
from .simulate import simulate_command
from .ivo import ivo_report_command
from .snapshot import backtest_command, snapshot_command
from .stack import app as stack_app
from .web_config import app as web_config_app
from .worker import worker_command

app = typer.Typer(rich_markup_mode=None, 
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
app.add_typer(board_app, name="board", help="The board report in a browser: write, preview and freeze a month")
app.command("generate")(generate_command)
app.command("gallra")(gallra_command)
app.command("backtest")(backtest_command)
app.add_typer(dashboards_app, name="dashboards", help="Grafana dashboards as code: build the JSON, push to a Grafana")
app.add_typer(web_config_app, name="web-config", help="Web config files (TLS, basic auth) of the metrics endpoints")
app.add_typer(stack_app, name="stack", help="Local Kafka (KRaft) and Redis (and Prometheus, Alertmanager) on loopback")


def main() -> None:
    app()
