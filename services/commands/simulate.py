"""`casewatch simulate`: write a seeded, realistic event stream as JSONL."""
from __future__ import annotations

import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Optional

import typer


def parse_end(text: Optional[str]) -> datetime:
    """``None``: now (Stockholm, whole hour). A date ``YYYY-MM-DD``: the end of that day, so
    ``--end 2024-12-31 --months 12`` is calendar year 2024. A timestamp: that instant (Stockholm
    time when it has no offset)."""
    from services.simulator.generate import default_end
    from streams.core.timeutil import STOCKHOLM

    if text is None:
        return default_end()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1)
            return datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD or an ISO timestamp, e.g. 2024-12-31T23:00:00+01:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STOCKHOLM)
    return moment


def simulate_command(
    out: Path = typer.Option(Path("-"), "--out", "-o", help="Output JSONL file; '-' writes to stdout."),
    municipalities: int = typer.Option(1, "--municipalities", "-m", min=1,
                                       help="Number of municipalities (SCB codes 0138, 0114, ...)."),
    population: int = typer.Option(50_000, "--population", "-p", min=1,
                                   help="Population per municipality; volumes scale with it."),
    months: int = typer.Option(6, "--months", min=1, help="Length of the simulated window in calendar months."),
    end: Optional[str] = typer.Option(None, "--end",
                                      help="End of the window: YYYY-MM-DD (end of that day) or an ISO "
                                           "timestamp. Default: now, truncated to the hour."),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same options give the same bytes."),
    units: Optional[str] = typer.Option(None, "--units",
                                        help="Comma-separated unit names per municipality, e.g. "
                                             "bou-1,bou-2,vuxen-1,eb-1 (default: derived from the population)."),
    duplicate_rate: float = typer.Option(0.01, "--duplicate-rate", min=0.0, max=1.0,
                                         help="Share of events re-sent later with the same event_id."),
    late_rate: float = typer.Option(0.02, "--late-rate", min=0.0, max=1.0,
                                    help="Share of events that arrive 1-10 days after they occurred."),
    invalid_rate: float = typer.Option(0.0, "--invalid-rate", min=0.0, max=1.0,
                                       help="Share of events followed by a malformed line (for tests)."),
    ledger: Optional[Path] = typer.Option(None, "--ledger",
                                          help="Also write each municipality's ledger (own staff, premises, "
                                               "income) as a SIE 4 file for `casewatch snapshot --ledger`; "
                                               "with several municipalities the code is added to the name."),
) -> None:
    """Generate a realistic, deterministic event stream (CONTRACT.md events) as JSONL."""
    from services.simulator.generate import SimulationSpec, SimulationStats, simulate_chunks

    try:
        spec = SimulationSpec(
            municipalities=municipalities, population=population, months=months, end=parse_end(end),
            seed=seed, units_per_municipality=tuple(u.strip() for u in units.split(",")) if units else None,
            duplicate_rate=duplicate_rate, late_rate=late_rate, invalid_rate=invalid_rate)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    stats = SimulationStats()
    towns: list = []
    started = time.perf_counter()
    to_stdout = str(out) == "-"
    stream = sys.stdout.buffer if to_stdout else open(out, "wb", buffering=1 << 20)
    try:
        for lines in simulate_chunks(spec, stats, towns):
            stream.writelines(lines)
        stream.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        pass
    finally:
        if not to_stdout:
            stream.close()
    elapsed = time.perf_counter() - started
    window_start, window_end = spec.window()
    if ledger is not None:
        from services.simulator.ledger import ledger_path, write_ledger

        last = (window_end - timedelta(seconds=1)).date()
        for town in towns:
            written = write_ledger(ledger_path(ledger, town.code, len(towns) > 1), town.code, town.staff_log,
                                   population, window_start.date(), last)
            print(f"ledger {written}", file=sys.stderr)
    print(
        f"simulated {stats.lines:,} lines ({stats.events:,} events, {stats.duplicates:,} duplicates, "
        f"{stats.late:,} late, {stats.invalid:,} invalid) for {spec.municipalities} municipalit{'y' if spec.municipalities == 1 else 'ies'}, "
        f"window {window_start.isoformat(timespec='minutes')} .. {window_end.isoformat(timespec='minutes')} "
        f"(first event {stats.first_occurred_at}) in {elapsed:.1f}s",
        file=sys.stderr,
    )
