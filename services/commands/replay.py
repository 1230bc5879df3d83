"""`casewatch replay`: the contract's reference computation over a JSONL file."""
from __future__ import annotations

import gc
import os
import sys
from datetime import date
from pathlib import Path
from typing import BinaryIO, Iterator, Optional

import typer


def parse_as_of(text: str) -> float:
    from streams.contract.validate import parse_instant

    try:
        return parse_instant(text)
    except ValueError:
        raise typer.BadParameter("use RFC 3339 with an offset, e.g. 2024-03-31T23:59:59+02:00") from None


def parse_period(period: Optional[str], start: Optional[str], end: Optional[str]) -> Optional[Period]:
    from streams.core.kpis import Period

    if period and (start or end):
        raise typer.BadParameter("give either --period or --from/--to, not both")
    try:
        if period:
            year, month = (int(x) for x in period.split("-"))
            return Period.month(year, month)
        if start or end:
            if not (start and end):
                raise typer.BadParameter("--from and --to go together")
            return Period.of_dates(date.fromisoformat(start), date.fromisoformat(end))
    except ValueError as exc:
        raise typer.BadParameter(f"bad period: {exc}") from None
    return None


def _lines_with_progress(stream: BinaryIO, total: int | None) -> Iterator[bytes]:
    """Yield lines; draw a progress bar on stderr only when a person is watching it."""
    if total is None or not sys.stderr.isatty():
        yield from stream
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), transient=True,
                  console=_stderr_console()) as progress:
        task = progress.add_task("replay", total=total)
        done = 0
        for n, line in enumerate(stream, 1):
            done += len(line)
            if n % 50_000 == 0:
                progress.update(task, completed=done)
            yield line
        progress.update(task, completed=total)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def replay_file(path: Path, as_of: float | None, period: Period | None, registry=None, clocks=None) -> dict:
    """``registry``: the unit registry's (municipality, unit) pairs (CONTRACT.md §7), or None;
    ``clocks``: the configured clocks (``Settings.clocks()``, the worker's link window), None the defaults."""
    # The replay builds millions of small acyclic objects and frees them at exit: the cyclic
    # collector would only rescan them (about a fifth of the run time), so it is off here.
    # The packed replay: the figures of streams.core.replay.Replay at a fraction of its memory.
    from streams.core.clocks import DEFAULT_CLOCKS
    from streams.core.packed_replay import PackedReplay as Replay

    gc.disable()
    replay = Replay(clocks or DEFAULT_CLOCKS, registry=registry)
    if str(path) == "-":
        replay.add_lines(sys.stdin.buffer)
    else:
        with open(path, "rb", buffering=1 << 20) as stream:
            replay.add_lines(_lines_with_progress(stream, os.fstat(stream.fileno()).st_size))
    return replay.result(as_of, period)


def _registry_pairs(path: Optional[Path], settings):
    """The (municipality, unit) pairs of ``path``, else of the configured registry, else None."""
    from streams.contract.unit_registry import RegistryError, load_registry

    if path is None:
        return settings.unit_registry_pairs()
    try:
        return load_registry(path).pairs
    except RegistryError as exc:
        raise typer.BadParameter(str(exc), param_hint="--unit-registry") from None


def replay_command(
    events: Path = typer.Argument(..., help="JSONL file of case events ('-' for stdin)", allow_dash=True),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Instant to compute at (RFC 3339); default: the latest occurred_at"),
    period: Optional[str] = typer.Option(None, "--period", help="Calendar month YYYY-MM"),
    start: Optional[str] = typer.Option(None, "--from", help="First day of the period (YYYY-MM-DD)"),
    end: Optional[str] = typer.Option(None, "--to", help="Day after the period (YYYY-MM-DD, exclusive)"),
    as_json: bool = typer.Option(False, "--json", help="Print the contract's JSON object"),
    unit_registry: Optional[Path] = typer.Option(
        None, "--unit-registry", help="Unit registry file (CONTRACT.md §7); default: the setting "
                                      "CASEWATCH_UNIT_REGISTRY_FILE the worker, ingest and the API use"),
) -> None:
    """Compute every KPI from an event file: the reference the streaming path must match.

    With a unit registry, events naming an unregistered (municipality, unit) are rejected
    `unknown_unit` and counted under `rejected_by_reason`, as on every other path."""
    import orjson

    if str(events) != "-" and not events.exists():
        raise typer.BadParameter(f"no such file: {events}", param_hint="EVENTS")
    from streams.settings import load_settings

    chosen_period = parse_period(period, start, end)
    # The worker's settings: a wrong file stops here with one clear message; the link window
    # (CASEWATCH_INVESTIGATION_LINK_WINDOW_DAYS) is the worker's, so the figures agree.
    settings = load_settings()
    registry = _registry_pairs(unit_registry, settings)
    try:
        result = replay_file(events, parse_as_of(as_of) if as_of else None, chosen_period, registry,
                             settings.clocks())
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
        return
    from services.summary import render_summary

    typer.echo(render_summary(result))

