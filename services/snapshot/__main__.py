"""``python -m services.snapshot snapshot|ivo-report|backtest ...``: the commands without the main CLI."""
from __future__ import annotations

import typer

from .backtest import backtest_command
from .cli import ivo_report_command, snapshot_command

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
app.command("snapshot")(snapshot_command)
app.command("ivo-report")(ivo_report_command)
app.command("backtest")(backtest_command)

if __name__ == "__main__":
    app()
