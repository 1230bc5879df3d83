"""`casewatch gallra --before DATE`: remove closed cases' data older than DATE everywhere
(dry run unless `--apply`). See services/gallring.py and docs/SECURITY.md."""
from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Optional

import typer


def gallra_command(
    before: str = typer.Option(..., "--before", help="Remove closed cases whose last event is before this "
                                                      "date (YYYY-MM-DD, Swedish local midnight)"),
    apply_: bool = typer.Option(False, "--apply", help="Carry it out; without it, only say what would go"),
    kafka_bootstrap: Optional[str] = typer.Option(None, "--kafka-bootstrap"),
    case_topic: Optional[str] = typer.Option(None, "--case-topic"),
    dead_letter_topic: Optional[str] = typer.Option(None, "--dead-letter-topic"),
    ivo_out: list[Path] = typer.Option([Path("ivo")], "--ivo-out",
                                       help="Frozen IVO quarters (casewatch ivo-report --out); repeatable"),
    snapshots_out: list[Path] = typer.Option([Path("snapshots")], "--snapshots-out",
                                             help="Frozen board months (casewatch snapshot --out-dir); repeatable. "
                                                  "Internal state is looked for in <folder>-intern"),
) -> None:
    """Gallring: remove closed cases' events, dead letters, worker state and Redis facts, and their
    lines in frozen reports' case-level files and internal state (what the board was shown stays).

    Stop the worker before `--apply`; on its next start it rebuilds its state from the log."""
    import orjson

    from services import gallring
    from services.gallring_frozen import FrozenStore
    from streams.kafka_log import KafkaLogError
    from streams.core.timeutil import STOCKHOLM
    from streams.settings import load_settings

    try:
        cutoff = datetime.combine(date.fromisoformat(before), time(0), STOCKHOLM).timestamp()
    except ValueError:
        raise typer.BadParameter("use a date, YYYY-MM-DD", param_hint="--before") from None
    settings = load_settings(kafka_bootstrap=kafka_bootstrap, case_topic=case_topic,
                             dead_letter_topic=dead_letter_topic)
    stores = [FrozenStore.at(folder) for folder in [*ivo_out, *snapshots_out]]
    try:
        chosen = gallring.plan(settings, cutoff, stores)
    except KafkaLogError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not apply_:
        typer.echo(orjson.dumps({"dry_run": True, "before": before, **chosen.as_json()},
                                option=orjson.OPT_INDENT_2).decode())
        return
    try:
        summary = gallring.apply(settings, chosen)
    except gallring.WorkerRunning as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(orjson.dumps({"dry_run": False, "before": before, **summary}, option=orjson.OPT_INDENT_2).decode())
