"""`casewatch demo`: the whole product on one machine with no servers.

It simulates a municipality's recent months, folds them through the same core as the replay
and the worker, prints a Swedish summary per unit, and serves the KPIs as Prometheus gauges on
127.0.0.1 from an in-memory facts source (the exporter's collector, minus Redis).
"""
from __future__ import annotations

import sys
import time
from collections import defaultdict
from datetime import datetime

import typer

from streams.core.facts import CaseFacts
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM

from .summary import render_summary


class InMemoryFacts:
    """A facts source for the exporter's collector, filled once from a replay."""

    def __init__(self, replay: Replay) -> None:
        self._facts: dict[str, list[CaseFacts]] = defaultdict(list)
        for facts in replay.facts():
            self._facts[facts.municipality].append(facts)
        self._stats = {
            "events:accepted": str(replay.accepted),
            "events:duplicate": str(replay.duplicates),
            "events:rejected": str(sum(replay.rejected.values())),
            **{f"rejected:{reason}": str(n) for reason, n in replay.rejected.items()},
            "consumer_lag": "0",
            "heartbeat_ts": repr(time.time()),
        }
        if replay.latest is not None:
            self._stats["newest_event_ts"] = repr(replay.latest)

    def municipalities(self) -> list[str]:
        return sorted(self._facts)

    def versions(self, municipalities: list[str]) -> dict[str, int]:
        return {m: 1 for m in municipalities}

    def read_facts(self, municipality: str) -> list[CaseFacts]:
        return list(self._facts.get(municipality, ()))

    def pipeline_stats(self) -> dict[str, str]:
        return {**self._stats, "heartbeat_ts": repr(time.time())}


def simulated_replay(months: int, population: int, seed: int, end: datetime) -> Replay:
    from .simulator import SimulationSpec, simulate

    replay = Replay()
    replay.add_lines(simulate(SimulationSpec(municipalities=1, population=population, months=months,
                                             seed=seed, end=end)))
    return replay


def demo_command(
    months: int = typer.Option(6, min=1, max=36, help="Months of history to simulate"),
    population: int = typer.Option(50_000, min=5_000, help="Municipality size (scales volumes)"),
    seed: int = typer.Option(1, help="Simulation seed (same seed, same figures)"),
    port: int = typer.Option(9464, min=0, max=65535, help="Port for /metrics on 127.0.0.1 (0: any free)"),
    once: bool = typer.Option(False, "--once", help="Print the summary and exit; serve nothing"),
) -> None:
    """Simulate a municipality, print its figures in Swedish and serve them to Prometheus."""
    now = float(int(time.time()))
    end = datetime.fromtimestamp(now, STOCKHOLM)
    typer.echo(f"Simulerar {months} månader för en kommun med {population:,} invånare …".replace(",", "\u00a0"),
               err=True)
    replay = simulated_replay(months, population, seed, end)
    typer.echo(render_summary(replay.result(as_of=now)))
    if once:
        return
    from .exporter.server import serve_source

    server, bound = serve_source(InMemoryFacts(replay), host="127.0.0.1", port=port)
    typer.echo(f"\nMätvärden för Prometheus: http://127.0.0.1:{bound}/metrics  (Ctrl-C avslutar)", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
        typer.echo("Avslutad.", err=True)
        sys.exit(0)
