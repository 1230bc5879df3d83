"""`casewatch gallra --before DATE`: remove closed cases' data older than DATE everywhere
(dry run unless `--apply`). See services/gallring.py and docs/SECURITY.md."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Optional

import typer


def gallra_command(
    before: str = typer.Option(..., "--before", help="Remove closed cases whose last event is before this "
                                                      "date (YYYY-MM-DD, Swedish local midnight)"),
    apply_: bool = typer.Option(False, "--apply", help="Carry it out; without it, only say what would go"),
    kafka_bootstrap: Optional[str] = typer.Option(None, "--kafka-bootstrap"),
    case_topic: Optional[str] = typer.Option(None, "--case-topic"),
    dead_letter_topic: Optional[str] = typer.Option(None, "--dead-letter-topic"),
) -> None:
    """Gallring: remove closed cases' events, dead letters, worker state and Redis facts.

    Stop the worker before `--apply`; on its next start it rebuilds its state from the log."""
    import orjson

    from services import gallring
    from streams.core.timeutil import STOCKHOLM
    from streams.settings import load_settings

    try:
        cutoff = datetime.combine(date.fromisoformat(before), time(0), STOCKHOLM).timestamp()
    except ValueError:
        raise typer.BadParameter("use a date, YYYY-MM-DD", param_hint="--before") from None
    settings = load_settings(kafka_bootstrap=kafka_bootstrap, case_topic=case_topic,
                             dead_letter_topic=dead_letter_topic)
    chosen = gallring.plan(settings, cutoff)
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
