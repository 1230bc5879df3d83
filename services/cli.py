"""The `casewatch` command line: thin wiring of the commands that live in their own modules."""
from __future__ import annotations

import typer

from .demo import demo_command
from .replay_command import replay_command
from .simulator.cli import simulate_command
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
app.add_typer(stack_app, name="stack", help="Local Kafka (KRaft) and Redis (and Prometheus, Alertmanager) on loopback")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
