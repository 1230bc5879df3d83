"""`casewatch demo`: the whole product on one machine with no servers.

It simulates a municipality's recent months, folds them through the same core as the replay
and the worker, prints a Swedish summary per unit, and serves the KPIs as Prometheus gauges on
127.0.0.1 from the in-memory projection (the exporter's collector, minus Redis).
"""
from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from streams.core.replay import Replay


# Contract v2's flows: reports to an intake unit, investigations in bou (violence: vald), family
# treatment in behandling; adults in vuxen, economic assistance in eb.
DEMO_UNITS = ("mottagning-1", "bou-1", "bou-2", "vald-1", "behandling-1", "vuxen-1", "eb-1")


def simulated_replay(months: int, population: int, seed: int, end: datetime) -> Replay:
    from services.simulator import SimulationSpec, simulate
    from streams.core.replay import fast_replay

    replay = fast_replay()
    replay.add_lines(simulate(SimulationSpec(municipalities=1, population=population, months=months,
                                             seed=seed, end=end, units_per_municipality=DEMO_UNITS)))
    return replay


def demo_command(
    months: int = typer.Option(6, min=1, max=36, help="Months of history to simulate"),
    population: int = typer.Option(50_000, min=5_000, help="Municipality size (scales volumes)"),
    seed: int = typer.Option(1, help="Simulation seed (same seed, same figures)"),
    port: int = typer.Option(9464, min=0, max=65535, help="Port for /metrics on 127.0.0.1 (0: any free)"),
    once: bool = typer.Option(False, "--once", help="Print the summary and exit; serve nothing"),
) -> None:
    """Simulate a municipality, print its figures in Swedish and serve them to Prometheus."""
    from services.summary import render_summary
    from streams.core.timeutil import STOCKHOLM

    now = float(int(time.time()))
    end = datetime.fromtimestamp(now, STOCKHOLM)
    typer.echo(f"Simulerar {months} månader för en kommun med {population:,} invånare …".replace(",", "\u00a0"),
               err=True)
    replay = simulated_replay(months, population, seed, end)
    typer.echo(render_summary(replay.result(as_of=now)))
    if once:
        return
    from services.demo_projection import DemoProjection
    from services.exporter.server import serve_source

    server, bound = serve_source(DemoProjection(replay), host="127.0.0.1", port=port)
    typer.echo(f"\nMätvärden för Prometheus: http://127.0.0.1:{bound}/metrics  (Ctrl-C avslutar)", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
        typer.echo("Avslutad.", err=True)
        sys.exit(0)
