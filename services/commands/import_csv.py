"""`casewatch import-csv FILE --mapping MAPPING.yaml`: a case system's CSV export to Kafka."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import orjson
import typer


def _human(summary: dict) -> str:
    lines = [
        f"{summary['file']} with mapping {summary['mapping']}: "
        + ("already imported completely; nothing sent" if summary.get("already_complete")
           else "complete" if summary["complete"] else "stopped; run again to resume"),
        f"  rows: {summary['rows']} ({summary['rows_this_run']} this run"
        + (f", resumed after row {summary['resumed_from_row']}" if summary.get("resumed_from_row") else "") + ")",
        f"  events sent: {summary['events_sent']} ({summary['events_sent_this_run']} this run)",
        f"  duplicate rows in the file: {summary['duplicates_in_file']}",
        f"  rejected by the contract (dead-lettered, redacted): {summary['rejected']}",
    ]
    for reason, n in summary["rejected_by_reason"].items():
        lines.append(f"    {reason}: {n}")
    lines.append(f"  rows the mapping could not read: {summary['row_errors']}")
    for key, n in summary["row_errors_by_reason"].items():
        where = ", ".join(map(str, summary["row_error_lines"].get(key, [])))
        lines.append(f"    {key}: {n} (lines {where})")
    if summary.get("events_per_second"):
        lines.append(f"  {summary['events_per_second']:.0f} events/s")
    return "\n".join(lines)


def import_csv_command(
    file: Path = typer.Argument(..., help="The CSV export", exists=True, dir_okay=False, readable=True),
    mapping: Path = typer.Option(..., "--mapping", help="Mapping file (YAML) for this export",
                                 exists=True, dir_okay=False, readable=True),
    state_dir: Path = typer.Option(Path("var/import"), "--state-dir",
                                   help="Where resume state and summaries are kept"),
    batch_size: int = typer.Option(1000, "--batch-size", min=1, help="Events per Kafka commit"),
    max_rows: Optional[int] = typer.Option(None, "--max-rows", min=1,
                                           help="Stop after this many rows (the next run resumes)"),
    force: bool = typer.Option(False, "--force", help="Ignore saved state and send every row again (ids are stable, "
                                                      "so the worker still counts each event once)"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON"),
    kafka_bootstrap: Optional[str] = typer.Option(None, "--kafka-bootstrap"),
    case_topic: Optional[str] = typer.Option(None, "--case-topic"),
    dead_letter_topic: Optional[str] = typer.Option(None, "--dead-letter-topic"),
    create_topics: bool = typer.Option(True, "--create-topics/--no-create-topics"),
) -> None:
    """Import a CSV export: personal ids and case numbers pseudonymised (keyed HMAC, key from
    CASEWATCH_PSEUDONYM_KEY), deterministic event ids, resumable, with a summary."""
    from services.ingest_api.sink import open_sink
    from streams.settings import load_settings

    from services.csv_import.importer import ImportError_, import_csv
    from services.csv_import.mapping import MappingError, load_mapping
    from services.csv_import.pseudonymise import PseudonymKeyError, pseudonymiser_from_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    settings = load_settings(kafka_bootstrap=kafka_bootstrap, case_topic=case_topic, dead_letter_topic=dead_letter_topic)
    try:
        pseudonymiser = pseudonymiser_from_settings(settings)
        spec = load_mapping(mapping)
    except (PseudonymKeyError, MappingError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if create_topics:
        from services.kafka_topics import ensure_topics

        ensure_topics(settings.kafka_bootstrap, settings.case_topic, settings.dead_letter_topic, settings.partitions,
                      security=settings.kafka_security())
    sink = open_sink(settings)
    try:
        summary = import_csv(file, spec, pseudonymiser, sink, state_dir=state_dir, batch_size=batch_size,
                             max_rows=max_rows, force=force, registry=settings.unit_registry_pairs(),
                             max_event_bytes=settings.max_event_bytes)
    except ImportError_ as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        sink.close()
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(summary) + b"\n")
    else:
        typer.echo(_human(summary))
